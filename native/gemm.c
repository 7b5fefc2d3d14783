/*
 * Single-precision GEMM for jax-js's WASM backend (issue 17). jax-js compiles a matmul to a WASM kernel; when
 * src/model/native-gemm.ts recognises a kernel as exactly C[u] = A[u] @ B[u] (u = batch), the patched backend
 * (scripts/patches/jax-native-gemm.js) calls `gemm` here instead, on the same WebAssembly.Memory.
 *
 * Layout: every operand is addressed in f32 elements of the whole WASM memory:
 *   A[u](m, k) = mem[aOff[u] + m*sAm + k*sAk]     (any strides: covers a @ b, a^T @ b, heads)
 *   B[u](k, n) = mem[bOff[u] + k*sBk + n*sBn]     (covers b and b^T)
 *   C[u](m, n) = mem[cOff + (u*M + m)*N + n]      (jax-js writes kernel outputs contiguously)
 * then the epilogue jax-js fused into the kernel, when it is one we take:
 *   C = alpha * C  (+ mem[biasOff + u*sDu + m*sDm + n*sDn] when there is a bias: the forward pass's bias add)
 *
 * Algorithm (the BLIS/GotoBLAS structure, simplified): the output is cut into jobs, each a range of rows of
 * one batch (a few per thread, so a slow thread on a shared machine leaves work to the others). A job walks
 * NC columns x KC steps of k at a time: it packs that B block into NR-column micro-panels once, then, MC rows
 * at a time, packs A into mr-row micro-panels (so any strides become unit-stride, cache-resident streams),
 * and a register-blocked micro-kernel accumulates each mr x NR tile over the KC steps. mr is MR or MR_SMALL,
 * whichever pads M less (M = 64 per attention head or 8 in decode: 8 rows, not 12). Packing B once per
 * job's row range rather than per MC rows is what keeps its cost small next to the arithmetic. Jobs go to a small persistent pthread pool
 * (the calling thread works too). Each output element is summed over k in the same order whatever the thread
 * count, so results do not depend on it.
 */
#include "instruct3.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__AVX512F__)
#include <immintrin.h>
/* Zen 4 / Skylake-X: 32 zmm registers: 12 x 2 accumulators + 2 B vectors + a broadcast */
#define I3_ISA "avx512f"
#define VW 16
#define MR 12
#define MR_SMALL 8
typedef __m512 vf;
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_load_ps(p)
#define VLOADU(p) _mm512_loadu_ps(p)
#define VSTOREU(p, v) _mm512_storeu_ps((p), (v))
#define VBCAST(x) _mm512_set1_ps(x)
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
/* 16 ymm registers: 6 x 2 accumulators + 2 B vectors + a broadcast */
#define I3_ISA "avx2+fma"
#define VW 8
#define MR 6
#define MR_SMALL 4
typedef __m256 vf;
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_load_ps(p)
#define VLOADU(p) _mm256_loadu_ps(p)
#define VSTOREU(p, v) _mm256_storeu_ps((p), (v))
#define VBCAST(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#else
/* Portable: GCC/Clang vector extensions (SSE, NEON, or scalar code), multiply then add */
#define I3_ISA "generic"
#define VW 4
#define MR 4
#define MR_SMALL 2
typedef float vf __attribute__((vector_size(16)));
typedef float vfu __attribute__((vector_size(16), aligned(4)));
#define VZERO() ((vf){0, 0, 0, 0})
#define VLOAD(p) (*(const vf *)(p))
#define VLOADU(p) ((vf)(*(const vfu *)(p)))
#define VSTOREU(p, v) (*(vfu *)(p) = (v))
#define VBCAST(x) ((vf){0, 0, 0, 0} + (x))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#endif

#define NR (2 * VW)
/*
 * Cache blocking: a packed A micro-panel (mr x KC, 12 KiB) stays in L1 while the tiles of one row sweep the
 * packed B block (KC x NC, up to 512 KiB) from L2; rows outer, columns inner measured 0-10% faster than the
 * reverse (load 7, within noise on some shapes).
 */
/* KC=128..384 measured within noise of 256 (load 7); -DKC= overrides for experiments */
#ifndef KC
#define KC 256
#endif
#define MC (MR * MR_SMALL) /* a multiple of both tile heights */
/* KC x NC = 512x256, 1024x128, 512x128 measured no better (load 8); -DNC= overrides */
#ifndef NC
#define NC 512
#endif
#define MAX_THREADS 64

typedef struct {
  float *mem;
  int64_t memLen; /* elements */
  int batch, M, N, K;
  int64_t sAm, sAk, sBk, sBn, cOff;
  const int32_t *aOff, *bOff;
  float alpha;
  int bias;
  int64_t biasOff, sDu, sDm, sDn;
  int mr; /* tile height: MR or MR_SMALL */
  int rowsPerJob, jobsPerBatch, jobs;
  atomic_int next; /* next job to take */
} gemm_task;

/* ---- micro-kernel --------------------------------------------------------------------------------------- */

/*
 * C tile (mr x nr, row stride ldc) = (accumulate ? C : 0) + sum over kc of a (packed MRK x kc, k-major) x b
 * (packed kc x NR, k-major). Full tiles are stored straight from registers; edge tiles go through a buffer.
 * MRK is a compile-time constant in each instantiation below, so the loops over rows unroll into registers.
 */
static inline __attribute__((always_inline)) void micro_tile(const int MRK, int kc, const float *restrict a, const float *restrict b,
                                                             float *restrict c, int64_t ldc, int accumulate, int mr, int nr) {
  vf acc[MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < MRK; i++) acc[i][0] = acc[i][1] = VZERO();
  for (int k = 0; k < kc; k++) {
    const vf b0 = VLOAD(b + (int64_t)k * NR), b1 = VLOAD(b + (int64_t)k * NR + VW);
    const float *ak = a + (int64_t)k * MRK;
#pragma GCC unroll 16
    for (int i = 0; i < MRK; i++) {
      const vf ai = VBCAST(ak[i]);
      acc[i][0] = VFMA(ai, b0, acc[i][0]);
      acc[i][1] = VFMA(ai, b1, acc[i][1]);
    }
  }
  if (mr == MRK && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MRK; i++) {
      float *ci = c + i * ldc;
      if (accumulate) {
        VSTOREU(ci, VADD(VLOADU(ci), acc[i][0]));
        VSTOREU(ci + VW, VADD(VLOADU(ci + VW), acc[i][1]));
      } else {
        VSTOREU(ci, acc[i][0]);
        VSTOREU(ci + VW, acc[i][1]);
      }
    }
    return;
  }
  float tile[MR * NR] __attribute__((aligned(64)));
#pragma GCC unroll 16
  for (int i = 0; i < MRK; i++) {
    VSTOREU(tile + i * NR, acc[i][0]);
    VSTOREU(tile + i * NR + VW, acc[i][1]);
  }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
}

static void micro_kernel(int kc, const float *a, const float *b, float *c, int64_t ldc, int accumulate, int mr, int nr) {
  micro_tile(MR, kc, a, b, c, ldc, accumulate, mr, nr);
}

static void micro_kernel_small(int kc, const float *a, const float *b, float *c, int64_t ldc, int accumulate, int mr, int nr) {
  micro_tile(MR_SMALL, kc, a, b, c, ldc, accumulate, mr, nr);
}

/* ---- packing -------------------------------------------------------------------------------------------- */

/*
 * A block whose columns are contiguous along m (a^T @ b): walk k once for the whole block, copying its mc
 * floats into every panel, rather than re-walking kc rows (a page apart when M = 1024) once per panel.
 * (+15-20% per CPU-second on the K = 1024 weight gradients, load 2.4.)
 */
__attribute__((noinline)) static void pack_a_mcontiguous(const gemm_task *t, const float *a, int mc, int kc, float *restrict dst) {
  const int MRP = t->mr;
  const int panels = (mc + MRP - 1) / MRP;
  for (int k = 0; k < kc; k++) {
    const float *src = a + (int64_t)k * t->sAk;
    for (int p = 0; p < panels; p++) {
      float *d = dst + (int64_t)p * kc * MRP + (int64_t)k * MRP;
      const int rows = mc - p * MRP < MRP ? mc - p * MRP : MRP;
      for (int i = 0; i < rows; i++) d[i] = src[p * MRP + i];
      for (int i = rows; i < MRP; i++) d[i] = 0.0f;
    }
  }
}

/* A rows [m0, m0+mc) x k [k0, k0+kc) into t->mr-row micro-panels, k-major; rows past mc are zero. */
static void pack_a(const gemm_task *t, const float *a, int mc, int kc, float *restrict dst) {
  const int MRP = t->mr;
  for (int i0 = 0; i0 < mc; i0 += MRP) {
    const int rows = mc - i0 < MRP ? mc - i0 : MRP;
    if (t->sAk == 1) {
      /* rows contiguous along k (a @ b): read each row once, scatter into the panel */
      for (int i = 0; i < MRP; i++) {
        if (i < rows) {
          const float *src = a + (int64_t)(i0 + i) * t->sAm;
          for (int k = 0; k < kc; k++) dst[k * MRP + i] = src[k];
        } else
          for (int k = 0; k < kc; k++) dst[k * MRP + i] = 0.0f;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        const float *src = a + (int64_t)k * t->sAk + (int64_t)i0 * t->sAm;
        for (int i = 0; i < MRP; i++) dst[k * MRP + i] = i < rows ? src[(int64_t)i * t->sAm] : 0.0f;
      }
    }
    dst += (int64_t)kc * MRP;
  }
}

/* B k [k0, k0+kc) x columns [n0, n0+nc) into NR-column micro-panels, k-major; columns past nc are zero. */
static void pack_b(const gemm_task *t, const float *b, int kc, int nc, float *restrict dst) {
  for (int j0 = 0; j0 < nc; j0 += NR) {
    const int cols = nc - j0 < NR ? nc - j0 : NR;
    if (t->sBn == 1) {
      for (int k = 0; k < kc; k++) {
        const float *src = b + (int64_t)k * t->sBk + j0;
        float *d = dst + k * NR;
        if (cols == NR) memcpy(d, src, NR * sizeof(float));
        else {
          for (int j = 0; j < cols; j++) d[j] = src[j];
          for (int j = cols; j < NR; j++) d[j] = 0.0f;
        }
      }
    } else {
      /* columns contiguous along k (a @ b^T): read each column once */
      for (int j = 0; j < NR; j++) {
        if (j < cols) {
          const float *src = b + (int64_t)(j0 + j) * t->sBn;
          if (t->sBk == 1)
            for (int k = 0; k < kc; k++) dst[k * NR + j] = src[k];
          else
            for (int k = 0; k < kc; k++) dst[k * NR + j] = src[(int64_t)k * t->sBk];
        } else
          for (int k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
      }
    }
    dst += (int64_t)kc * NR;
  }
}

/* ---- jobs and the thread pool --------------------------------------------------------------------------- */

/* Per-thread packing buffers, allocated once (A block MC x KC, B block KC x NC). */
static _Thread_local float *packA, *packB;

static int ensure_buffers(void) {
  if (!packA) packA = aligned_alloc(64, sizeof(float) * MC * KC);
  if (!packB) packB = aligned_alloc(64, sizeof(float) * KC * ((NC + NR - 1) / NR) * NR);
  return packA && packB;
}

/* The epilogue on a finished block (mc x nc at c, still in cache): alpha * C, then + bias, rounded per op as jax-js does. */
static void epilogue(const gemm_task *t, float *c, int u, int m0, int n0, int mc, int nc) {
  if (t->alpha == 1.0f && !t->bias) return;
  for (int i = 0; i < mc; i++) {
    float *ci = c + (int64_t)i * t->N;
    if (t->alpha != 1.0f)
      for (int j = 0; j < nc; j++) ci[j] = t->alpha * ci[j];
    if (t->bias) {
      const float *d = t->mem + t->biasOff + (int64_t)u * t->sDu + (int64_t)(m0 + i) * t->sDm + (int64_t)n0 * t->sDn;
      if (t->sDn == 1)
        for (int j = 0; j < nc; j++) ci[j] = ci[j] + d[j];
      else
        for (int j = 0; j < nc; j++) ci[j] = ci[j] + d[(int64_t)j * t->sDn];
    }
  }
}

/* One MC x nc block of C (rows m0.., columns n0..) over the packed B block: pack A's rows, run the tiles. */
static void run_block(gemm_task *t, int u, int m0, int mc, int n0, int nc, int k0, int kc) {
  const float *a = t->mem + t->aOff[u] + (int64_t)m0 * t->sAm + (int64_t)k0 * t->sAk;
  float *c = t->mem + t->cOff + ((int64_t)u * t->M + m0) * t->N + n0;
  const int mr = t->mr;
  void (*kernel)(int, const float *, const float *, float *, int64_t, int, int, int) = mr == MR ? micro_kernel : micro_kernel_small;
  if (t->sAm == 1) pack_a_mcontiguous(t, a, mc, kc, packA);
  else pack_a(t, a, mc, kc, packA);
  for (int i0 = 0; i0 < mc; i0 += mr)
    for (int j0 = 0; j0 < nc; j0 += NR)
      kernel(kc, packA + (int64_t)i0 * kc, packB + (int64_t)j0 * kc, c + (int64_t)i0 * t->N + j0, t->N, k0 > 0,
             mc - i0 < mr ? mc - i0 : mr, nc - j0 < NR ? nc - j0 : NR);
  if (k0 + kc == t->K) epilogue(t, c, u, m0, n0, mc, nc); /* the block is finished and still in cache */
}

static void run_job(gemm_task *t, int job) {
  const int u = job / t->jobsPerBatch;
  const int r0 = (job % t->jobsPerBatch) * t->rowsPerJob;
  const int r1 = r0 + t->rowsPerJob < t->M ? r0 + t->rowsPerJob : t->M;
  for (int n0 = 0; n0 < t->N; n0 += NC) {
    const int nc = t->N - n0 < NC ? t->N - n0 : NC;
    for (int k0 = 0; k0 < t->K; k0 += KC) {
      const int kc = t->K - k0 < KC ? t->K - k0 : KC;
      pack_b(t, t->mem + t->bOff[u] + (int64_t)n0 * t->sBn + (int64_t)k0 * t->sBk, kc, nc, packB);
      for (int m0 = r0; m0 < r1; m0 += MC) run_block(t, u, m0, r1 - m0 < MC ? r1 - m0 : MC, n0, nc, k0, kc);
    }
  }
}

static void run_jobs(gemm_task *t) {
  if (!ensure_buffers()) return; /* the caller checked its own; a worker without memory leaves jobs to others */
  for (int j; (j = atomic_fetch_add(&t->next, 1)) < t->jobs;) run_job(t, j);
}

/*
 * The pool: workers sleep on a condition variable; `gemm` publishes a task, bumps the generation, works on it
 * itself, then waits until every woken worker has finished (they may find no job left). Calls come from one
 * JS thread at a time per process; the mutex also serialises calls from worker_threads, should they call.
 */
static pthread_mutex_t poolMu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t callMu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poolWake = PTHREAD_COND_INITIALIZER, poolDone = PTHREAD_COND_INITIALIZER;
static gemm_task *poolTask;
static unsigned long poolGeneration;
static int poolWorkers, poolWanted, poolBusy;

static void *worker_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&poolMu);
  for (;;) {
    while (poolGeneration == seen || id >= poolWanted) {
      if (poolGeneration != seen) seen = poolGeneration; /* a call that does not need this worker */
      pthread_cond_wait(&poolWake, &poolMu);
    }
    seen = poolGeneration;
    gemm_task *t = poolTask;
    pthread_mutex_unlock(&poolMu);
    run_jobs(t);
    pthread_mutex_lock(&poolMu);
    if (--poolBusy == 0) pthread_cond_signal(&poolDone);
  }
  return NULL;
}

/* Run `t` on the calling thread plus up to threads-1 pool workers (started on first use). */
static void run_parallel(gemm_task *t, int threads) {
  int helpers = threads - 1;
  if (helpers > t->jobs - 1) helpers = t->jobs - 1;
  if (helpers > MAX_THREADS - 1) helpers = MAX_THREADS - 1;
  pthread_mutex_lock(&callMu);
  if (helpers > 0) {
    pthread_mutex_lock(&poolMu);
    while (poolWorkers < helpers) {
      pthread_t th;
      if (pthread_create(&th, NULL, worker_main, (void *)(intptr_t)poolWorkers) != 0) break;
      pthread_detach(th);
      poolWorkers++;
    }
    if (helpers > poolWorkers) helpers = poolWorkers;
    poolTask = t;
    poolWanted = helpers;
    poolBusy = helpers;
    poolGeneration++;
    pthread_cond_broadcast(&poolWake);
    pthread_mutex_unlock(&poolMu);
  }
  run_jobs(t);
  if (helpers > 0) {
    pthread_mutex_lock(&poolMu);
    while (poolBusy > 0) pthread_cond_wait(&poolDone, &poolMu);
    pthread_mutex_unlock(&poolMu);
  }
  pthread_mutex_unlock(&callMu);
}

/*
 * The tile height: the shorter one only when it pads M less and the taller would waste over 1/16 of the rows
 * (M = 64 per head, 8 in decode); otherwise the taller one, which loads B less per flop and measured 3-10%
 * faster on the large shapes. I3_GEMM_MR=12|8 (AVX-512) overrides, for experiments.
 */
static int choose_mr(int M) {
  static int forced = -1;
  if (forced < 0) {
    const char *e = getenv("I3_GEMM_MR");
    forced = e && atoi(e) == MR ? MR : e && atoi(e) == MR_SMALL ? MR_SMALL : 0;
  }
  if (forced) return forced;
  const int padBig = (M + MR - 1) / MR * MR - M, padSmall = (M + MR_SMALL - 1) / MR_SMALL * MR_SMALL - M;
  return padSmall < padBig && padBig * 16 > M ? MR_SMALL : MR;
}

/* ---- Node-API ------------------------------------------------------------------------------------------- */

static atomic_long gemmCalls;

/*
 * Header of the descriptor Int32Array; per-batch aOff then bOff follow it. D_ALPHA holds the f32 bits of alpha;
 * D_BIAS is 1 when the epilogue adds mem[D_DOFF + u*D_SDU + m*D_SDM + n*D_SDN].
 */
enum { D_BATCH, D_M, D_N, D_K, D_SAM, D_SAK, D_SBK, D_SBN, D_COFF, D_ALPHA, D_BIAS, D_DOFF, D_SDU, D_SDM, D_SDN, D_HEADER };

/* Largest element index touched by an operand at base + (rows-1)*s1 + (cols-1)*s2 (strides are >= 0). */
static int in_bounds(int64_t base, int64_t rows, int64_t s1, int64_t cols, int64_t s2, int64_t len) {
  return base >= 0 && base + (rows - 1) * s1 + (cols - 1) * s2 < len;
}

/*
 * gemm(mem: Float32Array over the WASM memory, desc: Int32Array, threads: number): C = A @ B as described
 * above. Throws (and writes nothing) when the descriptor is malformed or any operand leaves `mem`.
 */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) I3_THROW(env, "gemm(mem, desc, threads): expected 3 arguments");
  float *mem;
  size_t memLen, descLen;
  int32_t *d;
  int32_t threads;
  if (!i3_typed_array(env, argv[0], napi_float32_array, (void **)&mem, &memLen)) I3_THROW(env, "gemm: mem must be a Float32Array");
  if (!i3_typed_array(env, argv[1], napi_int32_array, (void **)&d, &descLen)) I3_THROW(env, "gemm: desc must be an Int32Array");
  I3_CHECK(env, napi_get_value_int32(env, argv[2], &threads));
  if (descLen < D_HEADER) I3_THROW(env, "gemm: descriptor too short");
  gemm_task t = {.mem = mem, .memLen = (int64_t)memLen, .batch = d[D_BATCH], .M = d[D_M], .N = d[D_N], .K = d[D_K],
                 .sAm = d[D_SAM], .sAk = d[D_SAK], .sBk = d[D_SBK], .sBn = d[D_SBN], .cOff = d[D_COFF]};
  if (t.batch < 1 || t.M < 1 || t.N < 1 || t.K < 1 || t.sAm < 0 || t.sAk < 0 || t.sBk < 0 || t.sBn < 0)
    I3_THROW(env, "gemm: descriptor has a non-positive size or a negative stride");
  if (descLen != (size_t)D_HEADER + 2 * (size_t)t.batch) I3_THROW(env, "gemm: descriptor length != header + 2 x batch offsets");
  memcpy(&t.alpha, &d[D_ALPHA], sizeof t.alpha);
  t.bias = d[D_BIAS] != 0;
  t.biasOff = d[D_DOFF];
  t.sDu = d[D_SDU];
  t.sDm = d[D_SDM];
  t.sDn = d[D_SDN];
  if (t.sDu < 0 || t.sDm < 0 || t.sDn < 0) I3_THROW(env, "gemm: descriptor has a negative bias stride");
  if (t.bias && !in_bounds(t.biasOff + (int64_t)(t.batch - 1) * t.sDu, t.M, t.sDm, t.N, t.sDn, t.memLen))
    I3_THROW(env, "gemm: the bias leaves the memory");
  t.aOff = d + D_HEADER;
  t.bOff = d + D_HEADER + t.batch;
  if (!in_bounds(t.cOff, (int64_t)t.batch * t.M, t.N, t.N, 1, t.memLen)) I3_THROW(env, "gemm: C leaves the memory");
  for (int u = 0; u < t.batch; u++) {
    if (!in_bounds(t.aOff[u], t.M, t.sAm, t.K, t.sAk, t.memLen)) I3_THROW(env, "gemm: A leaves the memory");
    if (!in_bounds(t.bOff[u], t.K, t.sBk, t.N, t.sBn, t.memLen)) I3_THROW(env, "gemm: B leaves the memory");
  }
  if (!ensure_buffers()) I3_THROW(env, "gemm: out of memory for packing buffers");
  /* rows per job: about M / (2 x threads) when one batch, whole matrices when many (attention per head) */
  const int parts = t.batch >= 2 * threads ? 1 : 2 * (threads < 1 ? 1 : threads);
  const int rows = (t.M + parts - 1) / parts;
  t.mr = choose_mr(t.M);
  t.rowsPerJob = rows < t.mr ? t.mr : (rows + t.mr - 1) / t.mr * t.mr;
  t.jobsPerBatch = (t.M + t.rowsPerJob - 1) / t.rowsPerJob;
  t.jobs = t.batch * t.jobsPerBatch;
  atomic_init(&t.next, 0);
  run_parallel(&t, threads < 1 ? 1 : threads);
  atomic_fetch_add(&gemmCalls, 1);
  return NULL;
}

/* gemmInfo(): { calls, isa, mr, nr } — `calls` lets tests assert that kernels really ran natively. */
static napi_value js_gemm_info(napi_env env, napi_callback_info info) {
  napi_value o, v;
  I3_CHECK(env, napi_create_object(env, &o));
  I3_CHECK(env, napi_create_double(env, (double)atomic_load(&gemmCalls), &v));
  I3_CHECK(env, napi_set_named_property(env, o, "calls", v));
  I3_CHECK(env, napi_create_string_utf8(env, I3_ISA, NAPI_AUTO_LENGTH, &v));
  I3_CHECK(env, napi_set_named_property(env, o, "isa", v));
  I3_CHECK(env, napi_create_int32(env, MR, &v));
  I3_CHECK(env, napi_set_named_property(env, o, "mr", v));
  I3_CHECK(env, napi_create_int32(env, NR, &v));
  I3_CHECK(env, napi_set_named_property(env, o, "nr", v));
  return o;
}

void i3_register_gemm(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, js_gemm, NULL, &fn) == napi_ok)
    napi_set_named_property(env, exports, "gemm", fn);
  if (napi_create_function(env, "gemmInfo", NAPI_AUTO_LENGTH, js_gemm_info, NULL, &fn) == napi_ok)
    napi_set_named_property(env, exports, "gemmInfo", fn);
}
