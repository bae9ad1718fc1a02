/* 16-bit fixed-point real FFT with the arithmetic of kissfft's FIXED_POINT=16 build (the
 * FFT the MLTK PC wrapper uses), so features match bit for bit. Written from the arithmetic:
 *   - a complex FFT of n = fft_length/2 points, decimation in time, radix 4 stages (and one
 *     radix 2 stage when log2(n) is odd), the first stage splitting the input;
 *   - every butterfly input is first divided by the radix in Q15 (x * (32767/p), rounded),
 *     so the whole transform is scaled by 1/n and never overflows;
 *   - products are rounded Q15: (a*b + 2^14) >> 15; sums wrap in 16 bits;
 *   - twiddles round(32767 * cos/sin) computed in double;
 *   - the real-input split step halves again and produces fft_length/2 + 1 bins. */
#ifndef KWS_FRONTEND_FFT_H
#define KWS_FRONTEND_FFT_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int16_t r, i;
} kws_cpx16_t;

#define KWS_FFT_MAX_STAGES 8 /* fft_length up to 2 * 4^7 = 32768 */

typedef struct {
  size_t fft_length;                /* real points (a power of two, >= 32) */
  size_t n;                         /* complex points = fft_length / 2 */
  int n_stages;
  uint8_t radix[KWS_FFT_MAX_STAGES];     /* stage radices, first (outermost) first */
  const kws_cpx16_t *twiddles;      /* [n] */
  const kws_cpx16_t *split_twiddles;/* [n/2] */
  const uint16_t *input_order;      /* [n]: complex input index feeding each work slot */
  kws_cpx16_t *work;                /* [n] */
  /* Output bins the caller reads, [read_from, read_to) (all after populate): the split
   * step skips each pair of bins k, n - k of which neither is read, and leaves them. */
  size_t read_from, read_to;
} kws_fft_t;

/* Real FFT of `input[fft_length]`, each sample first shifted left by input_shift (0..15) in
 * 16 bits ((int16)((uint16)x << shift)), into `output[fft_length/2 + 1]`. `input` must be
 * 4-byte aligned; it is read, not changed. Add KWS_FFT_INPUT_MAY_WRAP to input_shift unless
 * every shifted sample fits 16 bits (the frontend's shift guarantees it when no sample is
 * -32768): then the shift folds into the first stage's scaling. */
#define KWS_FFT_INPUT_MAY_WRAP 0x100
void kws_fft_real(const kws_fft_t *f, const int16_t *input, int input_shift,
                  kws_cpx16_t *output);
#endif
