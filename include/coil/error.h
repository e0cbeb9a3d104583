/* SPDX-License-Identifier: MIT */
/*
 * coil/error.h - coil returns negative errno values, like the kernel and
 * liburing: >= 0 is success. -ECANCELED always means "cancelled" and
 * -ETIMEDOUT always means "a timeout or deadline passed".
 */
#ifndef COIL_ERROR_H
#define COIL_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * coil_strerror - a message for @err, a negative errno as coil returns it
 * (a positive errno works too). Never NULL; the string is static and
 * thread-safe to use.
 */
const char *coil_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* COIL_ERROR_H */
