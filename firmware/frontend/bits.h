/* Bit helpers shared by the frontend stages. */
#ifndef KWS_FRONTEND_BITS_H
#define KWS_FRONTEND_BITS_H
#include <stdint.h>

/* Number of bits needed to hold n (0 for 0): the position of the top set bit, plus one. */
static inline int kws_msb32(uint32_t n) { return n ? 32 - __builtin_clz(n) : 0; }
static inline int kws_msb64(uint64_t n) { return n ? 64 - __builtin_clzll(n) : 0; }

/* Narrowing to 16 bits keeps the low 16 bits (two's complement wrap), written out so the
 * intent does not rest on implementation-defined conversions. */
static inline int16_t kws_wrap16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }

#endif
