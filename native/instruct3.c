/* Module entry: registers each kernel family (see instruct3.h). */
#include "instruct3.h"

NAPI_MODULE_INIT() {
  napi_value version;
  if (napi_create_uint32(env, 1, &version) == napi_ok) napi_set_named_property(env, exports, "abiVersion", version);
  i3_register_gemm(env, exports);
  i3_register_decode(env, exports);
  return exports;
}
