/*
 * instruct3's native kernels: one Node-API addon (build/native/instruct3.node), built at `npm install`
 * by scripts/build-native.js with the machine's C compiler (-O3 -march=native). It is optional: when it
 * is missing (no compiler) or INSTRUCT3_NATIVE=0, src/model/native.ts returns null and every caller
 * falls back to jax-js's WASM kernels. Each kernel family lives in its own file and registers its
 * functions on the module's exports.
 */
#ifndef INSTRUCT3_NATIVE_H
#define INSTRUCT3_NATIVE_H
#include <node_api.h>
#include <stdbool.h>

/* gemm.c: matmul kernels that jax-js's WASM backend dispatches to (scripts/patches/jax-native-gemm.js). */
void i3_register_gemm(napi_env env, napi_value exports);
/* decode.c: the fused KV-cache decode step used by src/model/generate.ts. */
void i3_register_decode(napi_env env, napi_value exports);

/* Throw a JS Error with `msg` and return NULL from the calling napi function. */
#define I3_THROW(env, msg) do { napi_throw_error((env), "EINSTRUCT3_NATIVE", (msg)); return NULL; } while (0)
/* Evaluate a napi call; on failure throw naming the call. */
#define I3_CHECK(env, call) do { if ((call) != napi_ok) I3_THROW((env), "native: " #call " failed"); } while (0)

/* A typed array argument of type `want`: its data pointer and element count; 0 when `v` is anything else. */
static inline int i3_typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) == napi_ok && type == want;
}

#endif
