/* sanitize.h — MCPDECK_ASAN: 1 when built with AddressSanitizer (gcc or
 * clang). Caches and arenas that recycle memory step aside under it, so
 * a use after free shows as one. */
#ifndef MCPDECK_SANITIZE_H
#define MCPDECK_SANITIZE_H

#if defined(__SANITIZE_ADDRESS__)
#define MCPDECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MCPDECK_ASAN 1
#endif
#endif
#ifndef MCPDECK_ASAN
#define MCPDECK_ASAN 0
#endif

#endif
