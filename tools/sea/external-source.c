// externalLatin1(arrayBuffer): a JavaScript string over the buffer's bytes, not a copy of them.
//
// The executable's launcher hands V8 the app's bundle as such a string over the SEA asset
// (node:sea getRawAsset: the bytes where the executable's file is mapped). V8 keeps a script's
// source for as long as the script lives, to compile its functions lazily; the string
// node:sea's getAsset returns is a second, anonymous copy of bytes the page cache already holds
// (~5 MB for the kubelet), one the kernel can never reclaim. Over the file's pages it is neither.
//
// The bytes must be Latin-1 (the build makes the bundle ASCII) and must not change. The string
// holds a reference to the buffer until V8 drops the string, so that any buffer stays alive.
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

static void release_buffer(node_api_basic_env env, void* data, void* hint) {
  (void)data;
  napi_delete_reference(env, (napi_ref)hint);
}

static napi_value external_latin1(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* bytes = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_arraybuffer_info(env, argv[0], &bytes, &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "externalLatin1 takes an ArrayBuffer");
    return NULL;
  }
  napi_ref keep;
  if (napi_create_reference(env, argv[0], 1, &keep) != napi_ok) return NULL;
  napi_value text;
  bool copied = false;
  if (node_api_create_external_string_latin1(env, (char*)bytes, length, release_buffer, keep,
                                             &text, &copied) != napi_ok) {
    napi_delete_reference(env, keep);
    napi_throw_error(env, NULL, "V8 made no string of the buffer");
    return NULL;
  }
  // A copy (V8 copies strings too short to be worth an external one) has run the finalizer.
  napi_value result, is_copy;
  napi_create_object(env, &result);
  napi_get_boolean(env, copied, &is_copy);
  napi_set_named_property(env, result, "text", text);
  napi_set_named_property(env, result, "copied", is_copy);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "externalLatin1", NAPI_AUTO_LENGTH, external_latin1, NULL, &fn);
  napi_set_named_property(env, exports, "externalLatin1", fn);
  return exports;
}
