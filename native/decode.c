/* The fused KV-cache decode step: not written yet (registers nothing). */
#include "instruct3.h"

void i3_register_decode(napi_env env, napi_value exports) { (void)env; (void)exports; }
