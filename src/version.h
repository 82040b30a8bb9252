/* version.h — the one place the version is written. */
#ifndef MCPDECK_VERSION
#define MCPDECK_VERSION "0.1.0"
#endif
