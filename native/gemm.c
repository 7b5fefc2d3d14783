/* Matmul kernels for jax-js's WASM backend: not written yet (registers nothing). */
#include "instruct3.h"

void i3_register_gemm(napi_env env, napi_value exports) { (void)env; (void)exports; }
