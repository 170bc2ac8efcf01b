// What a single executable answers `import('koffi')` with: the part of koffi's API the packages
// use (load('libc.so.6').func(signature), alloc, view, address, free, errno), over the project's
// own addon of those libc calls (libc-calls.c). The packages keep koffi, an optional dependency,
// for Node installs; an executable needs neither koffi's 4.8 MB nor its load.
//
// A signature is looked up as the packages write it: one a package adds must be added here,
// which libc-calls.test.ts checks against every `func('…')` in the packages' sources.

/** Each C signature the packages bind, to its call in `addon`. */
function signatures(addon) {
  const send = (fd, data, length, flags) => addon.send(fd, data, length, flags);
  // koffi's `fn.async(...args, callback)`: the call on a libuv worker thread.
  send.async = (fd, data, length, flags, callback) => addon.sendAsync(fd, data, length, flags, callback);
  return {
    'int malloc_trim(size_t pad)': addon.mallocTrim,
    'int setrlimit(int, const void *)': addon.setrlimit,
    'int socket(int, int, int)': addon.socket,
    'int connect(int, const void *, uint32_t)': addon.connect,
    'int setsockopt(int, int, int, const void *, uint32_t)': addon.setsockopt,
    'intptr_t send(int, const void *, size_t, int)': send,
    'long send(int, const void *, size_t, int)': send,
    'intptr_t recvmsg(int, void *, int)': addon.recvmsg,
    'int close(int)': addon.close,
  };
}

/** The C signatures an executable can bind. */
const SIGNATURES = Object.keys(signatures({}));

/** koffi's face over `addon` (libc-calls.c, loaded). */
function koffiSubset(addon) {
  const calls = signatures(addon);
  return {
    load(path) {
      if (path !== 'libc.so.6') throw new Error(`koffi.load(${path}): an executable binds libc.so.6 only`);
      return {
        func(signature) {
          const call = calls[signature];
          if (!call) throw new Error(`koffi: the executable has no "${signature}" (tools/sea/libc-calls.c)`);
          return call;
        },
      };
    },
    // Memory as koffi hands it out, here an ArrayBuffer, which V8 never moves; freed with it.
    alloc(type, length) {
      if (type !== 'uint8_t') throw new Error(`koffi.alloc(${type}): an executable allocates uint8_t only`);
      return addon.alloc(length);
    },
    view(pointer, length) {
      if (length > pointer.byteLength)
        throw new RangeError(`koffi.view: ${length} bytes of ${pointer.byteLength}`);
      return pointer;
    },
    address: addon.address,
    free() {},
    errno: addon.errno,
  };
}

module.exports = { koffiSubset, SIGNATURES };
