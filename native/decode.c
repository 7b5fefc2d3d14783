/*
 * The fused KV-cache decode step for src/model/generate.ts (issue 17): the whole GPT-2 forward for a list
 * of tokens, each at its own (row, position), reading and writing a KV cache held here in native memory.
 * The same call serves the batched prompt pass (every prompt token of every row) and the decode step (one
 * token per live row). Sampling, EOS and log-probs stay in JS; this only answers "logits for the next
 * position".
 *
 * Model (as src/model/gpt.ts): pre-LayerNorm blocks, learned positions, tanh GELU, tied LM head, Conv1D
 * weights in [in, out] layout. Shapes: C = nEmbd, H heads, D = C / H, V vocab, L layers, M tokens in a
 * call, B cache rows, Tmax cache positions.
 *
 * JS API (src/model/native-decode.ts wraps it):
 *   decodeCreate([V, nCtx, C, L, H], eps)            -> decoder (an external; memory freed by decodeFree or GC)
 *   decodeSetWeights(dec, [Float32Array...])         weights in paramShapes order (gpt.ts), copied and packed
 *   decodeReset(dec, B, Tmax)                        cache [L][B][Tmax][H][D] for keys and for values
 *   decodeForward(dec, tok, row, pos, emit, logits)  tok/row/pos/emit Int32Array [M]; token i's key and value
 *       go to cache (row[i], pos[i]); it attends to its row's positions 0..pos[i]; when emit[i] >= 0 its
 *       logits [V] are written to logits[emit[i] * V ..]. A row's tokens must come in position order.
 *   decodeFree(dec)
 */
#include "instruct3.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -std=c11 turns off FMA contraction; the GEMM loops below are written as a*b+c and want fused FMAs. */
#pragma GCC optimize("fp-contract=fast")

/* 16 floats: one AVX-512 register (GCC lowers it to two AVX2 registers, or scalars, elsewhere). */
typedef float v16 __attribute__((vector_size(64)));
/* The same, for loads and stores at any 4-byte-aligned address. */
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/* Columns per packed weight panel: two v16. */
#define NR 32
/* Rows per GEMM micro-kernel call: 8 rows x 2 v16 = 16 accumulators. */
#define MR 8
/* Tokens per forward chunk: bounds the scratch buffers (a long prompt pass runs in chunks). */
#define CHUNK 128

/* A linear layer y = x @ W + b with W [in, out] stored as panels [np][in][NR] (columns past `out` are 0). */
typedef struct {
  int in, out, np;
  float *w; /* [np][in][NR], 64-byte aligned */
  float *b; /* [np * NR], zero past out */
} Linear;

typedef struct {
  float *ln1_g, *ln1_b, *ln2_g, *ln2_b; /* [C] */
  Linear attn, proj, fc, fcproj;        /* c_attn [C, 3C], attn.c_proj [C, C], c_fc [C, 4C], mlp.c_proj [4C, C] */
} Block;

typedef struct {
  int V, nCtx, C, L, H, D;
  float eps;
  int loaded;
  float *wpe;         /* [nCtx, C] */
  float *lnf_g, *lnf_b; /* [C] */
  Linear head;        /* wte^T: [C, V], also the token embeddings (kept once: wte is the model's largest matrix) */
  Block *blocks;      /* [L] */
  /* cache */
  int B, Tmax;
  size_t cacheCap;    /* floats allocated for each of k and v */
  float *k, *v;       /* [L][B][Tmax][H][D] */
  /* scratch for one chunk of CHUNK tokens */
  float *x, *a, *qkv, *y, *h, *scores; /* [CHUNK, C], [CHUNK, C], [CHUNK, 3C], [CHUNK, C], [CHUNK, 4C], [H, nCtx] */
  float *hl, *lg;     /* emitted rows: [CHUNK, C], [CHUNK, V] */
} Decoder;

static void *alloc64(size_t floats) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (floats ? floats : 1) * sizeof(float)) != 0) return NULL;
  return p;
}

static void linearFree(Linear *l) {
  free(l->w);
  free(l->b);
  l->w = l->b = NULL;
}

static int linearAlloc(Linear *l, int in, int out) {
  l->in = in;
  l->out = out;
  l->np = (out + NR - 1) / NR;
  l->w = alloc64((size_t)l->np * in * NR);
  l->b = alloc64((size_t)l->np * NR);
  return l->w && l->b;
}

/* Pack W given as w(k, j) = src[k * ks + j * js] (k < in, j < out) into panels; bias may be NULL (zeros). */
static void linearPack(Linear *l, const float *src, size_t ks, size_t js, const float *bias) {
  for (int p = 0; p < l->np; p++)
    for (int k = 0; k < l->in; k++) {
      float *dst = l->w + ((size_t)p * l->in + k) * NR;
      for (int j = 0; j < NR; j++) {
        int col = p * NR + j;
        dst[j] = col < l->out ? src[k * ks + (size_t)col * js] : 0.0f;
      }
    }
  for (int j = 0; j < l->np * NR; j++) l->b[j] = (bias && j < l->out) ? bias[j] : 0.0f;
}

/*
 * Micro-kernel: y[r, 0:n] = x[r, :] @ panel + bias for rb <= MR rows, one panel (n = min(NR, columns left)).
 * x [rb, in] with row stride ldx, panel [in][NR], y row stride ldy. Inlined with a constant rb so the
 * accumulators live in registers.
 */
static inline __attribute__((always_inline)) void microKernel(int rb, int in, const float *x, int ldx, const float *panel,
                                                              const float *bias, float *y, int ldy, int n) {
  v16 acc0[MR], acc1[MR];
  const v16 b0 = *(const v16u *)bias, b1 = *(const v16u *)(bias + 16);
  for (int r = 0; r < rb; r++) acc0[r] = b0, acc1[r] = b1;
  for (int k = 0; k < in; k++) {
    const v16 w0 = *(const v16 *)(panel + (size_t)k * NR), w1 = *(const v16 *)(panel + (size_t)k * NR + 16);
    for (int r = 0; r < rb; r++) {
      const float xv = x[(size_t)r * ldx + k];
      acc0[r] += xv * w0;
      acc1[r] += xv * w1;
    }
  }
  if (n == NR) {
    for (int r = 0; r < rb; r++) {
      *(v16u *)(y + (size_t)r * ldy) = acc0[r];
      *(v16u *)(y + (size_t)r * ldy + 16) = acc1[r];
    }
  } else {
    for (int r = 0; r < rb; r++) {
      float tmp[NR];
      *(v16u *)tmp = acc0[r];
      *(v16u *)(tmp + 16) = acc1[r];
      memcpy(y + (size_t)r * ldy, tmp, (size_t)n * sizeof(float));
    }
  }
}

/* One panel for rows [0, m): blocks of MR rows, then the rest with a kernel specialised to its row count. */
static void panelRows(int m, int in, const float *x, int ldx, const float *panel, const float *bias, float *y, int ldy, int n) {
  int r = 0;
  for (; r + MR <= m; r += MR) microKernel(MR, in, x + (size_t)r * ldx, ldx, panel, bias, y + (size_t)r * ldy, ldy, n);
  const float *xr = x + (size_t)r * ldx;
  float *yr = y + (size_t)r * ldy;
  switch (m - r) {
    case 0: break;
    case 1: microKernel(1, in, xr, ldx, panel, bias, yr, ldy, n); break;
    case 2: microKernel(2, in, xr, ldx, panel, bias, yr, ldy, n); break;
    case 3: microKernel(3, in, xr, ldx, panel, bias, yr, ldy, n); break;
    case 4: microKernel(4, in, xr, ldx, panel, bias, yr, ldy, n); break;
    case 5: microKernel(5, in, xr, ldx, panel, bias, yr, ldy, n); break;
    case 6: microKernel(6, in, xr, ldx, panel, bias, yr, ldy, n); break;
    default: microKernel(7, in, xr, ldx, panel, bias, yr, ldy, n); break;
  }
}

/* y [m, out] = x [m, in] @ W + b. Panel outer, rows inner: each weight panel is read from memory once. */
static void linearForward(const Linear *l, int m, const float *x, float *y) {
  for (int p = 0; p < l->np; p++) {
    int n = l->out - p * NR;
    if (n > NR) n = NR;
    panelRows(m, l->in, x, l->in, l->w + (size_t)p * l->in * NR, l->b + p * NR, y + p * NR, l->out, n);
  }
}

typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

/* Sum of the 16 lanes (halving tree; a plain loop where __builtin_shufflevector is missing, GCC < 12). */
static inline float hsum(v16 v) {
#if !defined(__clang__) && __GNUC__ < 12
  float s = 0;
  for (int i = 0; i < 16; i++) s += v[i];
  return s;
#else
  const v8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const v4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
#endif
}

/* sum_e a[e] * b[e], with 16 partial sums (a plain loop would be one serial chain of FMAs). */
static inline float dot(const float *a, const float *b, int n) {
  v16 acc = {0};
  int e = 0;
  for (; e + 16 <= n; e += 16) acc += *(const v16u *)(a + e) * *(const v16u *)(b + e);
  float s = hsum(acc);
  for (; e < n; e++) s += a[e] * b[e];
  return s;
}

/* sum_e (a[e] - c)^2, with 16 partial sums. */
static inline float sumSqDiff(const float *a, float c, int n) {
  v16 acc = {0};
  int e = 0;
  for (; e + 16 <= n; e += 16) {
    const v16 d = *(const v16u *)(a + e) - c;
    acc += d * d;
  }
  float s = hsum(acc);
  for (; e < n; e++) s += (a[e] - c) * (a[e] - c);
  return s;
}

/*
 * exp(x) for x <= 88 (smaller than -87 gives ~1e-38 instead of 0, which nothing here can tell apart):
 * x = k ln2 + r, |r| <= ln2 / 2, exp(r) by Cephes' degree-6 polynomial (about 1 ulp), times 2^k built
 * in the exponent bits. Plain arithmetic so that GCC vectorises loops over it (libm's expf is scalar).
 */
static inline float expApprox(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  /* k = round(x / ln2), by adding and taking away 1.5 * 2^23 (floorf would stop GCC vectorising) */
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale = {.i = ((int32_t)k + 127) << 23};
  return p * scale.f;
}

/* y [m, C] = LayerNorm(x [m, C]) * g + b, as gpt.ts: (x - mean) / sqrt(mean((x - mean)^2) + eps). */
static void layerNorm(int m, int C, const float *x, const float *g, const float *b, float eps, float *y) {
  static const float ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (int i = 0; i < m; i++) {
    const float *xi = x + (size_t)i * C;
    float *yi = y + (size_t)i * C;
    float mu = 0;
    int c = 0;
    for (; c + 16 <= C; c += 16) mu += dot(xi + c, ones, 16);
    for (; c < C; c++) mu += xi[c];
    mu /= C;
    const float inv = 1.0f / sqrtf(sumSqDiff(xi, mu, C) / C + eps);
    for (c = 0; c < C; c++) yi[c] = (xi[c] - mu) * inv * g[c] + b[c];
  }
}

/* GPT-2's tanh GELU in gpt.ts's form: x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), exp's argument capped at 80. */
static void geluTanh(size_t n, float *x) {
  const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
  for (size_t i = 0; i < n; i++) {
    const float xi = x[i];
    float negTwoU = xi * (xi * xi * (-2.0f * k * 0.044715f) - 2.0f * k);
    negTwoU = negTwoU > 80.0f ? 80.0f : negTwoU;
    x[i] = xi / (expApprox(negTwoU) + 1.0f);
  }
}

static void decoderFree(Decoder *d) {
  if (!d) return;
  free(d->wpe), free(d->lnf_g), free(d->lnf_b);
  linearFree(&d->head);
  if (d->blocks)
    for (int l = 0; l < d->L; l++) {
      Block *bl = &d->blocks[l];
      free(bl->ln1_g), free(bl->ln1_b), free(bl->ln2_g), free(bl->ln2_b);
      linearFree(&bl->attn), linearFree(&bl->proj), linearFree(&bl->fc), linearFree(&bl->fcproj);
    }
  free(d->blocks);
  free(d->k), free(d->v);
  free(d->x), free(d->a), free(d->qkv), free(d->y), free(d->h), free(d->scores), free(d->hl), free(d->lg);
  free(d);
}

static Decoder *decoderNew(int V, int nCtx, int C, int L, int H, float eps) {
  Decoder *d = calloc(1, sizeof(Decoder));
  if (!d) return NULL;
  d->V = V, d->nCtx = nCtx, d->C = C, d->L = L, d->H = H, d->D = C / H, d->eps = eps;
  int ok = (d->blocks = calloc((size_t)L, sizeof(Block))) != NULL;
  ok = ok && (d->wpe = alloc64((size_t)nCtx * C));
  ok = ok && (d->lnf_g = alloc64(C)) && (d->lnf_b = alloc64(C)) && linearAlloc(&d->head, C, V);
  for (int l = 0; ok && l < L; l++) {
    Block *bl = &d->blocks[l];
    ok = (bl->ln1_g = alloc64(C)) && (bl->ln1_b = alloc64(C)) && (bl->ln2_g = alloc64(C)) && (bl->ln2_b = alloc64(C));
    ok = ok && linearAlloc(&bl->attn, C, 3 * C) && linearAlloc(&bl->proj, C, C) && linearAlloc(&bl->fc, C, 4 * C) && linearAlloc(&bl->fcproj, 4 * C, C);
  }
  ok = ok && (d->x = alloc64((size_t)CHUNK * C)) && (d->a = alloc64((size_t)CHUNK * C)) && (d->qkv = alloc64((size_t)CHUNK * 3 * C));
  ok = ok && (d->y = alloc64((size_t)CHUNK * C)) && (d->h = alloc64((size_t)CHUNK * 4 * C)) && (d->scores = alloc64((size_t)H * nCtx));
  ok = ok && (d->hl = alloc64((size_t)CHUNK * C)) && (d->lg = alloc64((size_t)CHUNK * V));
  if (!ok) {
    decoderFree(d);
    return NULL;
  }
  return d;
}

/* Cache index of (layer, row, position), head 0: [L][B][Tmax][H][D]. */
static size_t cacheAt(const Decoder *d, int l, int b, int t) { return (((size_t)l * d->B + b) * d->Tmax + t) * d->C; }

/*
 * Attention of token i (row b, position t) over its row's cached positions 0..t, all heads:
 * q [C] (heads side by side) -> out [C]; out_h = softmax_u(q_h . k_uh / sqrt(D)) @ v_h. Positions run in
 * the outer loop so that the row's cache [t + 1, C] is streamed once for the keys and once for the values.
 */
static void attend(const Decoder *d, int l, int b, int t, const float *q, float *out) {
  const int H = d->H, D = d->D, C = d->C, T = t + 1;
  const float scale = 1.0f / sqrtf((float)D);
  const float *K = d->k + cacheAt(d, l, b, 0), *Vc = d->v + cacheAt(d, l, b, 0);
  float *s = d->scores; /* [H][T] */
  for (int u = 0; u < T; u++)
    for (int h = 0; h < H; h++) s[h * T + u] = dot(q + h * D, K + (size_t)u * C + h * D, D) * scale;
  for (int h = 0; h < H; h++) {
    float *sh = s + h * T, mx = -INFINITY;
    for (int u = 0; u < T; u++) mx = sh[u] > mx ? sh[u] : mx;
    for (int u = 0; u < T; u++) sh[u] = expApprox(sh[u] - mx);
    v16 zv = {0};
    int u = 0;
    for (; u + 16 <= T; u += 16) zv += *(const v16u *)(sh + u);
    float z = hsum(zv);
    for (; u < T; u++) z += sh[u];
    const float inv = 1.0f / z;
    for (u = 0; u < T; u++) sh[u] *= inv;
  }
  for (int c = 0; c < C; c++) out[c] = 0;
  for (int u = 0; u < T; u++) {
    const float *vu = Vc + (size_t)u * C;
    for (int h = 0; h < H; h++) {
      const float p = s[h * T + u];
      float *oh = out + h * D;
      const float *vh = vu + h * D;
      for (int e = 0; e < D; e++) oh[e] += p * vh[e];
    }
  }
}

/* The forward for m <= CHUNK tokens (validated by the caller); emitted rows' logits go to logits[emit * V]. */
static void forwardChunk(Decoder *d, int m, const int32_t *tok, const int32_t *row, const int32_t *pos, const int32_t *emit, float *logits) {
  const int C = d->C;
  float *x = d->x, *a = d->a, *qkv = d->qkv, *y = d->y, *hdn = d->h;
  /* x [m, C] = wte[tok] + wpe[pos]; wte[tok, c] is the head's W(c, tok), in panel tok / NR */
  for (int i = 0; i < m; i++) {
    const float *te = d->head.w + (size_t)(tok[i] / NR) * C * NR + tok[i] % NR, *pe = d->wpe + (size_t)pos[i] * C;
    for (int c = 0; c < C; c++) x[(size_t)i * C + c] = te[(size_t)c * NR] + pe[c];
  }
  for (int l = 0; l < d->L; l++) {
    const Block *bl = &d->blocks[l];
    layerNorm(m, C, x, bl->ln1_g, bl->ln1_b, d->eps, a);
    linearForward(&bl->attn, m, a, qkv); /* [m, 3C]: q | k | v */
    /* every token's key and value into the cache first, so tokens of one row in this chunk see each other */
    for (int i = 0; i < m; i++) {
      const size_t at = cacheAt(d, l, row[i], pos[i]);
      memcpy(d->k + at, qkv + (size_t)i * 3 * C + C, (size_t)C * sizeof(float));
      memcpy(d->v + at, qkv + (size_t)i * 3 * C + 2 * C, (size_t)C * sizeof(float));
    }
    for (int i = 0; i < m; i++) attend(d, l, row[i], pos[i], qkv + (size_t)i * 3 * C, y + (size_t)i * C); /* y [m, C] */
    linearForward(&bl->proj, m, y, a); /* a [m, C] */
    for (size_t j = 0; j < (size_t)m * C; j++) x[j] += a[j];
    layerNorm(m, C, x, bl->ln2_g, bl->ln2_b, d->eps, a);
    linearForward(&bl->fc, m, a, hdn); /* [m, 4C] */
    geluTanh((size_t)m * 4 * C, hdn);
    linearForward(&bl->fcproj, m, hdn, a); /* [m, C] */
    for (size_t j = 0; j < (size_t)m * C; j++) x[j] += a[j];
  }
  /* final LayerNorm and the tied head, for emitted tokens only: [e, C] -> [e, V] */
  int e = 0;
  for (int i = 0; i < m; i++)
    if (emit[i] >= 0) memcpy(d->hl + (size_t)e++ * C, x + (size_t)i * C, (size_t)C * sizeof(float));
  if (e == 0) return;
  layerNorm(e, C, d->hl, d->lnf_g, d->lnf_b, d->eps, d->hl);
  linearForward(&d->head, e, d->hl, d->lg);
  e = 0;
  for (int i = 0; i < m; i++)
    if (emit[i] >= 0) memcpy(logits + (size_t)emit[i] * d->V, d->lg + (size_t)e++ * d->V, (size_t)d->V * sizeof(float));
}

/* ---- Node-API glue ---- */

/* Finalizer of a decoder's external: frees the decoder unless decodeFree did, then its slot. */
static void finalizeSlot(napi_env env, void *data, void *hint) {
  Decoder **slot = data;
  decoderFree(*slot);
  free(slot);
}

/* The Decoder behind an external; NULL (with a pending exception) when it is not one or was freed. */
static Decoder *getDecoder(napi_env env, napi_value v) {
  napi_valuetype t;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "EINSTRUCT3_NATIVE", "decode: first argument is not a decoder");
    return NULL;
  }
  Decoder **slot = p;
  if (!*slot) napi_throw_error(env, "EINSTRUCT3_NATIVE", "decode: decoder was freed");
  return *slot;
}

/* A typed array argument of the expected type; its data and element count. */
static napi_value jsCreate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) I3_THROW(env, "decodeCreate: want ([vocabSize, nCtx, nEmbd, nLayer, nHead], layerNormEps)");
  int dims[5];
  for (uint32_t i = 0; i < 5; i++) {
    napi_value e;
    int32_t x;
    if (napi_get_element(env, argv[0], i, &e) != napi_ok || napi_get_value_int32(env, e, &x) != napi_ok || x <= 0)
      I3_THROW(env, "decodeCreate: dims must be 5 positive integers [vocabSize, nCtx, nEmbd, nLayer, nHead]");
    dims[i] = x;
  }
  double eps;
  if (napi_get_value_double(env, argv[1], &eps) != napi_ok || !(eps > 0)) I3_THROW(env, "decodeCreate: layerNormEps must be a positive number");
  if (dims[2] % dims[4] != 0) I3_THROW(env, "decodeCreate: nEmbd must be divisible by nHead");
  Decoder *d = decoderNew(dims[0], dims[1], dims[2], dims[3], dims[4], (float)eps);
  if (!d) I3_THROW(env, "decodeCreate: out of memory");
  /* the external holds a slot so that decodeFree can free early and later calls see NULL */
  Decoder **slot = malloc(sizeof(Decoder *));
  if (!slot) {
    decoderFree(d);
    I3_THROW(env, "decodeCreate: out of memory");
  }
  *slot = d;
  napi_value out;
  if (napi_create_external(env, slot, finalizeSlot, NULL, &out) != napi_ok) {
    decoderFree(d);
    free(slot);
    I3_THROW(env, "decodeCreate: napi_create_external failed");
  }
  return out;
}

static napi_value jsSetWeights(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) I3_THROW(env, "decodeSetWeights: want (decoder, weights[])");
  Decoder *d = getDecoder(env, argv[0]);
  if (!d) return NULL;
  const int C = d->C, L = d->L;
  const uint32_t want = 2 + 12 * (uint32_t)L + 2;
  uint32_t n = 0;
  bool isArray = false;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &n) != napi_ok || n != want)
    I3_THROW(env, "decodeSetWeights: weights must be an array of Float32Array in paramShapes order (2 + 12 * nLayer + 2)");
  /* expected element count of each weight, in paramShapes order */
  float *w[4 + 12 * 64];
  if (L > 64) I3_THROW(env, "decodeSetWeights: more than 64 layers");
  for (uint32_t i = 0; i < n; i++) {
    size_t size;
    if (i == 0) size = (size_t)d->V * C;
    else if (i == 1) size = (size_t)d->nCtx * C;
    else if (i >= n - 2) size = C;
    else {
      static const int per[12] = {1, 1, 3, 3, 1, 1, 1, 1, 4, 4, 4, 1}; /* in units of C (weights also x C) */
      static const int mat[12] = {0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0};
      const int j = (i - 2) % 12;
      size = (size_t)per[j] * C * (mat[j] ? C : 1);
    }
    napi_value e;
    size_t len;
    void *data;
    if (napi_get_element(env, argv[1], i, &e) != napi_ok || !i3_typed_array(env, e, napi_float32_array, &data, &len)) {
      char msg[96];
      snprintf(msg, sizeof msg, "decodeSetWeights: weight %u is not a Float32Array", i);
      I3_THROW(env, msg);
    }
    if (len != size) {
      char msg[128];
      snprintf(msg, sizeof msg, "decodeSetWeights: weight %u has %zu elements, want %zu", i, len, size);
      I3_THROW(env, msg);
    }
    w[i] = data;
  }
  memcpy(d->wpe, w[1], (size_t)d->nCtx * C * sizeof(float));
  for (int l = 0; l < L; l++) {
    float **p = w + 2 + 12 * l;
    Block *bl = &d->blocks[l];
    memcpy(bl->ln1_g, p[0], C * sizeof(float)), memcpy(bl->ln1_b, p[1], C * sizeof(float));
    linearPack(&bl->attn, p[2], 3 * C, 1, p[3]);
    linearPack(&bl->proj, p[4], C, 1, p[5]);
    memcpy(bl->ln2_g, p[6], C * sizeof(float)), memcpy(bl->ln2_b, p[7], C * sizeof(float));
    linearPack(&bl->fc, p[8], 4 * C, 1, p[9]);
    linearPack(&bl->fcproj, p[10], C, 1, p[11]);
  }
  memcpy(d->lnf_g, w[n - 2], C * sizeof(float)), memcpy(d->lnf_b, w[n - 1], C * sizeof(float));
  linearPack(&d->head, w[0], 1, C, NULL); /* W(k, j) = wte[j, k] */
  d->loaded = 1;
  return NULL;
}

static napi_value jsReset(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) I3_THROW(env, "decodeReset: want (decoder, B, Tmax)");
  Decoder *d = getDecoder(env, argv[0]);
  if (!d) return NULL;
  int32_t B, T;
  if (napi_get_value_int32(env, argv[1], &B) != napi_ok || B <= 0) I3_THROW(env, "decodeReset: B must be a positive integer");
  if (napi_get_value_int32(env, argv[2], &T) != napi_ok || T <= 0 || T > d->nCtx) I3_THROW(env, "decodeReset: Tmax must be in 1..nCtx");
  const size_t need = (size_t)d->L * B * T * d->C;
  if (need > d->cacheCap) {
    free(d->k), free(d->v);
    d->k = alloc64(need), d->v = alloc64(need);
    d->cacheCap = (d->k && d->v) ? need : 0;
    if (!d->cacheCap) {
      d->B = d->Tmax = 0; /* no cache: decodeForward refuses until a reset succeeds */
      I3_THROW(env, "decodeReset: out of memory for the KV cache");
    }
  }
  d->B = B, d->Tmax = T;
  return NULL;
}

static napi_value jsForward(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) I3_THROW(env, "decodeForward: want (decoder, tok, row, pos, emit, logits)");
  Decoder *d = getDecoder(env, argv[0]);
  if (!d) return NULL;
  if (!d->loaded) I3_THROW(env, "decodeForward: no weights (call decodeSetWeights)");
  if (!d->B) I3_THROW(env, "decodeForward: no cache (call decodeReset)");
  int32_t *a[4];
  size_t m = 0, len;
  static const char *names[4] = {"tok", "row", "pos", "emit"};
  for (int i = 0; i < 4; i++) {
    if (!i3_typed_array(env, argv[1 + i], napi_int32_array, (void **)&a[i], &len)) {
      char msg[64];
      snprintf(msg, sizeof msg, "decodeForward: %s must be an Int32Array", names[i]);
      I3_THROW(env, msg);
    }
    if (i == 0) m = len;
    else if (len != m) {
      char msg[80];
      snprintf(msg, sizeof msg, "decodeForward: %s has %zu entries, tok has %zu", names[i], len, m);
      I3_THROW(env, msg);
    }
  }
  float *logits;
  size_t nLogits;
  if (!i3_typed_array(env, argv[5], napi_float32_array, (void **)&logits, &nLogits)) I3_THROW(env, "decodeForward: logits must be a Float32Array");
  for (size_t i = 0; i < m; i++) {
    char msg[112];
    const char *bad = NULL;
    if (a[0][i] < 0 || a[0][i] >= d->V) bad = "token out of the vocabulary";
    else if (a[1][i] < 0 || a[1][i] >= d->B) bad = "row out of the cache's batch";
    else if (a[2][i] < 0 || a[2][i] >= d->Tmax) bad = "position out of the cache (Tmax)";
    else if (a[3][i] >= 0 && ((size_t)a[3][i] + 1) * d->V > nLogits) bad = "emit slot past the end of logits";
    if (bad) {
      snprintf(msg, sizeof msg, "decodeForward: token %zu: %s", i, bad);
      I3_THROW(env, msg);
    }
  }
  for (size_t s = 0; s < m; s += CHUNK) {
    const int n = (int)(m - s < CHUNK ? m - s : CHUNK);
    forwardChunk(d, n, a[0] + s, a[1] + s, a[2] + s, a[3] + s, logits);
  }
  return NULL;
}

static napi_value jsFree(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  I3_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_get_value_external(env, argv[0], &p) != napi_ok)
    I3_THROW(env, "decodeFree: argument is not a decoder");
  Decoder **slot = p;
  decoderFree(*slot);
  *slot = NULL;
  return NULL;
}

void i3_register_decode(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"decodeCreate", NULL, jsCreate, NULL, NULL, NULL, napi_default, NULL},
    {"decodeSetWeights", NULL, jsSetWeights, NULL, NULL, NULL, napi_default, NULL},
    {"decodeReset", NULL, jsReset, NULL, NULL, NULL, napi_default, NULL},
    {"decodeForward", NULL, jsForward, NULL, NULL, NULL, napi_default, NULL},
    {"decodeFree", NULL, jsFree, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
