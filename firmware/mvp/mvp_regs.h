/* Register map of the EFR32xG24 MVP (Matrix Vector Processor), as offsets and bitfields.
 *
 * Written from the public description gathered in shared/notes/mvp-facts.md (device header
 * layout, field positions, opcode numbers). Only what the driver and the simulator need.
 * Offsets are in 32-bit words from the start of the register block.
 */
#ifndef KWS_MVP_REGS_H
#define KWS_MVP_REGS_H

#include <stdint.h>

#define MVP_BASE_S 0x4D000000u /* secure alias of the register block */
#define MVP_IRQ_NUMBER 15
#define MVP_BLOCK_WORDS 1024u  /* 0x1000 bytes; SET/CLR/TGL aliases follow at +0x1000.. */

/* Word offsets. */
#define MVP_W_IPVERSION 0u
#define MVP_W_EN 1u
#define MVP_W_SWRST 2u
#define MVP_W_CFG 3u
#define MVP_W_STATUS 4u
#define MVP_W_PERF0 5u
#define MVP_W_PERF1 6u
#define MVP_W_IF 7u
#define MVP_W_IEN 8u
#define MVP_W_FAULTSTATUS 9u
#define MVP_W_FAULTADDR 10u
#define MVP_W_PROGRAMSTATE 11u
#define MVP_W_ALU0 25u    /* 0x064: 8 registers, complex binary16 (real [15:0], imag [31:16]) */
#define MVP_W_ARRAY0 33u  /* 0x084: 5 x {ADDRCFG, DIM0CFG, DIM1CFG, DIM2CFG} */
#define MVP_W_LOOP0 53u   /* 0x0D4: 8 x {CFG, RST} */
#define MVP_W_INSTR0 69u  /* 0x114: 8 x {CFG0, CFG1, CFG2} */
#define MVP_W_CMD 93u     /* 0x174 */
#define MVP_PROGRAM_WORDS 69u /* ALU0 .. CMD, the image a program writes */

#define MVP_N_REGS 8
#define MVP_N_ARRAYS 5
#define MVP_N_LOOPS 8
#define MVP_N_INSTRS 8

/* EN, STATUS, CMD, CFG bits. */
#define MVP_EN_EN (1u << 0)
#define MVP_EN_DISABLING (1u << 1)
#define MVP_STATUS_RUNNING (1u << 0)
#define MVP_STATUS_PAUSED (1u << 1)
#define MVP_STATUS_IDLE (1u << 2)
#define MVP_CMD_START (1u << 0)
#define MVP_CMD_HALT (1u << 1)
#define MVP_CMD_STEP (1u << 2)
#define MVP_CMD_INIT (1u << 3)
#define MVP_CFG_PERFCNTEN (1u << 0)
#define MVP_CFG_PERF0SEL_SHIFT 16
#define MVP_CFG_PERF1SEL_SHIFT 20
#define MVP_PERF_RUN 0u
#define MVP_PERF_STALL 2u
#define MVP_PERF_COUNT_MASK 0xFFFFFFu

/* IF / IEN bits. */
#define MVP_IF_PROGDONE (1u << 0)
#define MVP_IF_ALUNAN (1u << 10)
#define MVP_IF_ALUOF (1u << 12)
#define MVP_IF_ALUUF (1u << 13)
#define MVP_IF_STORECONVERTOF (1u << 14)
#define MVP_IF_STORECONVERTUF (1u << 15)
#define MVP_IF_STORECONVERTINF (1u << 16)
#define MVP_IF_STORECONVERTNAN (1u << 17)
#define MVP_IF_PERFCNT0 (1u << 18)
#define MVP_IF_PERFCNT1 (1u << 19)
#define MVP_IF_LOOPFAULT (1u << 24)
#define MVP_IF_BUSERRFAULT (1u << 25)
#define MVP_IF_BUSALIGNFAULT (1u << 26)
#define MVP_IF_ALUFAULT (1u << 27)
#define MVP_IF_ARRAYFAULT (1u << 28)
#define MVP_IF_FAULTS (MVP_IF_LOOPFAULT | MVP_IF_BUSERRFAULT | MVP_IF_BUSALIGNFAULT | \
                       MVP_IF_ALUFAULT | MVP_IF_ARRAYFAULT)

/* FAULTSTATUS fields. */
#define MVP_FAULT_PC_SHIFT 0
#define MVP_FAULT_ARRAY_SHIFT 8
#define MVP_FAULT_BUS_SHIFT 12 /* 1 LOAD0, 2 LOAD1, 3 STORE */
#define MVP_FAULT_LOOP_SHIFT 16

/* Array descriptor: DIMnCFG. SIZE holds size-1; STRIDE is signed 12-bit, in elements. */
#define MVP_DIM_SIZE_MASK 0x3FFu
#define MVP_DIM0_BASETYPE_SHIFT 12
#define MVP_DIM0_COMPLEX (1u << 14)
#define MVP_DIM_STRIDE_SHIFT 16
#define MVP_DIM_STRIDE_MASK 0xFFFu
#define MVP_MAX_DIM_SIZE 1024
#define MVP_MAX_STRIDE 2047
#define MVP_MIN_STRIDE (-2048)

/* Base types (BASETYPE); bit 2 of a driver datatype code selects COMPLEX. */
typedef enum {
  MVP_TYPE_UINT8 = 0,
  MVP_TYPE_INT8 = 1,
  MVP_TYPE_BINARY16 = 2,
  MVP_TYPE_CUINT8 = 4,
  MVP_TYPE_CINT8 = 5,
  MVP_TYPE_CBINARY16 = 6,
} mvp_type_t;

/* LOOPCFG / LOOPRST: NUMITERS [9:0] holds count-1; ARRAYkINCRDIMd / RESETDIMd at 12+4k+d. */
#define MVP_LOOP_NUMITERS_MASK 0x3FFu
#define MVP_LOOP_ARRAY_BIT(k, d) (1u << (12 + 4 * (k) + (d)))
#define MVP_MAX_LOOP_COUNT 1024

/* INSTRCFG0: ALU operand registers and modifier flags. */
#define MVP_I0_X_SHIFT 0
#define MVP_I0_Y_SHIFT 8
#define MVP_I0_A_SHIFT 16
#define MVP_I0_Z_SHIFT 28
#define MVP_MOD_REALZERO 1u   /* modifier flags sit at operand shift + 4 */
#define MVP_MOD_REALNEG 2u
#define MVP_MOD_IMAGZERO 4u
#define MVP_MOD_IMAGNEG 8u

/* INSTRCFG1: three 10-bit stream fields (LOAD0 at 0, LOAD1 at 10, STORE at 20):
 * reg [2:0], enable bit 3, array [6:4], INCRDIM0/1/2 [9:7]. */
#define MVP_I1_LOAD0_SHIFT 0
#define MVP_I1_LOAD1_SHIFT 10
#define MVP_I1_STORE_SHIFT 20
#define MVP_STREAM_EN (1u << 3)
#define MVP_STREAM_ARRAY_SHIFT 4
#define MVP_STREAM_INCR_SHIFT 7

/* INSTRCFG2: loop n begin bit 2n, end bit 2n+1; ALUOP [28:20]; ENDPROG bit 31. */
#define MVP_I2_ALUOP_SHIFT 20
#define MVP_I2_ALUOP_MASK 0x1FFu
#define MVP_I2_ENDPROG (1u << 31)

/* ALU opcodes (the subset with modelled semantics, plus a few named for completeness). */
enum {
  MVP_OP_NOOP = 0x000,
  MVP_OP_CLEAR = 0x001,
  MVP_OP_COPY = 0x041,
  MVP_OP_ADDR = 0x04A,
  MVP_OP_MAX = 0x04B,
  MVP_OP_MIN = 0x04C,
  MVP_OP_ADDC = 0x14E,
  MVP_OP_MAX2A = 0x153,
  MVP_OP_MIN2A = 0x154,
  MVP_OP_MULC = 0x18D,
  MVP_OP_MULR2A = 0x197,
  MVP_OP_MACC = 0x1CD,
  MVP_OP_CLIP2A = 0x1D5,
  MVP_OP_MACR2A = 0x1D7,
};

#endif
