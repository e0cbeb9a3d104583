/* SPDX-License-Identifier: MIT */
/* runtime/error.c - messages for coil's negative errno results. */
#define _GNU_SOURCE
#include <string.h>

#include "internal.h"

const char *coil_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	/* glibc >= 2.32: a static string, unlike strerror() (not MT-safe). */
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}
