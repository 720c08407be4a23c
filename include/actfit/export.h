/* Visibility macro for the public API: the libraries build with -fvisibility=hidden. */
#ifndef ACTFIT_EXPORT_H
#define ACTFIT_EXPORT_H
#if defined(ACTFIT_BUILDING) && defined(__GNUC__)
#define ACTFIT_API __attribute__((visibility("default")))
#else
#define ACTFIT_API
#endif
#define ACTFIT_VERSION_STRING "0.1.0"
#endif
