// The C library calls the agents make that Node has no API for, as one small N-API addon the
// single executables carry in place of koffi (a general FFI, 4.8 MB stripped, about 1 MiB of
// anonymous memory once loaded, ~100 ms to load). koffi-subset.cjs puts koffi's face on them for
// the packages, which import koffi by name.
//
// Each call is the libc function itself with the arguments converted; a pointer argument is a
// Buffer (any Uint8Array) or an ArrayBuffer, refused when shorter than the length that goes with it.
// errno is kept right after each call made on the main thread, as koffi.errno() reads it.
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int last_errno = 0;

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, NULL, "libc-calls: N-API call failed"); \
      return NULL;                                                  \
    }                                                               \
  } while (0)

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv,
                     const char* name) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", name);
    return false;
  }
  return true;
}

static bool get_int(napi_env env, napi_value value, int32_t* out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return true;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libc-calls: an int argument is not a number");
  return false;
}

static bool get_size(napi_env env, napi_value value, size_t* out) {
  int64_t n = 0;
  if (napi_get_value_int64(env, value, &n) == napi_ok && n >= 0) {
    *out = (size_t)n;
    return true;
  }
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libc-calls: a size argument is not a count");
  return false;
}

// The bytes behind a Buffer (any Uint8Array) or an ArrayBuffer, at least `need` of them.
static bool get_bytes(napi_env env, napi_value value, size_t need, void** data) {
  bool is = false, bytes = false;
  size_t length = 0;
  if (napi_is_typedarray(env, value, &is) == napi_ok && is) {
    napi_typedarray_type type;
    bytes = napi_get_typedarray_info(env, value, &type, &length, data, NULL, NULL) == napi_ok &&
            type == napi_uint8_array;
  } else if (napi_is_arraybuffer(env, value, &is) == napi_ok && is) {
    bytes = napi_get_arraybuffer_info(env, value, data, &length) == napi_ok;
  }
  if (!bytes) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "libc-calls: a pointer argument is not a Buffer or ArrayBuffer");
    return false;
  }
  if (length < need) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE",
                           "libc-calls: the buffer is shorter than the length passed with it");
    return false;
  }
  return true;
}

static napi_value number(napi_env env, int64_t result) {
  napi_value out;
  CHECK(napi_create_int64(env, result, &out));
  return out;
}

// The result of a call on the main thread, with its errno kept.
static napi_value called(napi_env env, int64_t result) {
  last_errno = result < 0 ? errno : 0;
  return number(env, result);
}

static napi_value malloc_trim_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t pad;
  if (!get_args(env, info, 1, argv, "malloc_trim(pad)") || !get_size(env, argv[0], &pad))
    return NULL;
  return number(env, malloc_trim(pad));
}

static napi_value setrlimit_call(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t resource;
  void* limit;
  if (!get_args(env, info, 2, argv, "setrlimit(resource, limit)") || !get_int(env, argv[0], &resource) ||
      !get_bytes(env, argv[1], sizeof(struct rlimit), &limit))
    return NULL;
  return called(env, setrlimit(resource, (const struct rlimit*)limit));
}

static napi_value socket_call(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t domain, type, protocol;
  if (!get_args(env, info, 3, argv, "socket(domain, type, protocol)") || !get_int(env, argv[0], &domain) ||
      !get_int(env, argv[1], &type) || !get_int(env, argv[2], &protocol))
    return NULL;
  return called(env, socket(domain, type, protocol));
}

static napi_value connect_call(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  size_t length;
  void* address;
  if (!get_args(env, info, 3, argv, "connect(fd, address, length)") || !get_int(env, argv[0], &fd) ||
      !get_size(env, argv[2], &length) || !get_bytes(env, argv[1], length, &address))
    return NULL;
  return called(env, connect(fd, (const struct sockaddr*)address, (socklen_t)length));
}

static napi_value setsockopt_call(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, level, name;
  size_t length;
  void* value;
  if (!get_args(env, info, 5, argv, "setsockopt(fd, level, name, value, length)") ||
      !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) || !get_int(env, argv[2], &name) ||
      !get_size(env, argv[4], &length) || !get_bytes(env, argv[3], length, &value))
    return NULL;
  return called(env, setsockopt(fd, level, name, value, (socklen_t)length));
}

// send(2)'s arguments, as both send and sendAsync take them first.
typedef struct {
  int32_t fd;
  int32_t flags;
  void* data;
  size_t length;
} send_args;

static bool get_send_args(napi_env env, napi_value* argv, send_args* out) {
  return get_int(env, argv[0], &out->fd) && get_size(env, argv[2], &out->length) &&
         get_bytes(env, argv[1], out->length, &out->data) && get_int(env, argv[3], &out->flags);
}

static napi_value send_call(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  send_args a;
  if (!get_args(env, info, 4, argv, "send(fd, data, length, flags)") || !get_send_args(env, argv, &a))
    return NULL;
  return called(env, send(a.fd, a.data, a.length, a.flags));
}

static napi_value recvmsg_call(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, flags;
  void* message;
  if (!get_args(env, info, 3, argv, "recvmsg(fd, message, flags)") || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], sizeof(struct msghdr), &message) || !get_int(env, argv[2], &flags))
    return NULL;
  return called(env, recvmsg(fd, (struct msghdr*)message, flags));
}

static napi_value close_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv, "close(fd)") || !get_int(env, argv[0], &fd)) return NULL;
  return called(env, close(fd));
}

static napi_value errno_call(napi_env env, napi_callback_info info) {
  (void)info;
  return number(env, last_errno);
}

// A zero-filled ArrayBuffer whose bytes stay where they are for its life (V8 moves no backing
// store), so their address may be written into a structure the kernel reads (recvmsg's msghdr).
static napi_value alloc_call(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  size_t length;
  void* data;
  if (!get_args(env, info, 1, argv, "alloc(length)") || !get_size(env, argv[0], &length)) return NULL;
  CHECK(napi_create_arraybuffer(env, length, &data, &out));
  return out;
}

static napi_value address_call(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  void* data;
  if (!get_args(env, info, 1, argv, "address(buffer)") || !get_bytes(env, argv[0], 0, &data)) return NULL;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)data, &out));
  return out;
}

// send(2) on a libuv worker thread: the kernel runs an nf_tables batch inside the send.
typedef struct {
  napi_async_work work;
  napi_ref buffer;
  napi_ref callback;
  send_args args;
  ssize_t result;
} async_send;

static void async_send_execute(napi_env env, void* data) {
  (void)env;
  async_send* s = data;
  s->result = send(s->args.fd, s->args.data, s->args.length, s->args.flags);
}

static void async_send_complete(napi_env env, napi_status status, void* data) {
  async_send* s = data;
  napi_value callback, global, argv[2];
  napi_get_reference_value(env, s->callback, &callback);
  napi_get_global(env, &global);
  napi_get_null(env, &argv[0]);
  if (status != napi_ok) napi_create_string_utf8(env, "send was cancelled", NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_int64(env, status == napi_ok ? s->result : -1, &argv[1]);
  napi_delete_reference(env, s->buffer);
  napi_delete_reference(env, s->callback);
  napi_delete_async_work(env, s->work);
  free(s);
  napi_call_function(env, global, callback, 2, argv, NULL);
}

static napi_value send_async_call(napi_env env, napi_callback_info info) {
  napi_value argv[5], name;
  send_args args;
  napi_valuetype type;
  if (!get_args(env, info, 5, argv, "sendAsync(fd, data, length, flags, callback)") ||
      !get_send_args(env, argv, &args))
    return NULL;
  if (napi_typeof(env, argv[4], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendAsync: the callback is not a function");
    return NULL;
  }
  async_send* s = calloc(1, sizeof(*s));
  if (s == NULL) {
    napi_throw_error(env, NULL, "sendAsync: out of memory");
    return NULL;
  }
  s->args = args;
  // The buffer stays alive, and so where it is, until the send is done.
  CHECK(napi_create_reference(env, argv[1], 1, &s->buffer));
  CHECK(napi_create_reference(env, argv[4], 1, &s->callback));
  CHECK(napi_create_string_utf8(env, "libc-calls:send", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, async_send_execute, async_send_complete, s, &s->work));
  CHECK(napi_queue_async_work(env, s->work));
  return NULL;
}

#define CALL(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  const napi_property_descriptor calls[] = {
      CALL("mallocTrim", malloc_trim_call), CALL("setrlimit", setrlimit_call),
      CALL("socket", socket_call),          CALL("connect", connect_call),
      CALL("setsockopt", setsockopt_call),  CALL("send", send_call),
      CALL("sendAsync", send_async_call),   CALL("recvmsg", recvmsg_call),
      CALL("close", close_call),            CALL("errno", errno_call),
      CALL("alloc", alloc_call),            CALL("address", address_call),
  };
  napi_define_properties(env, exports, sizeof(calls) / sizeof(calls[0]), calls);
  return exports;
}
