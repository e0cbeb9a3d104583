/* SPDX-License-Identifier: MIT */
/*
 * coil.h - everything public in coil: an io_uring runtime of stackful
 * coroutines for Linux. See README.md and docs/ARCHITECTURE.md.
 */
#ifndef COIL_H
#define COIL_H

#include <coil/error.h>
#include <coil/io.h>
#include <coil/net.h>
#include <coil/runtime.h>
#include <coil/sync.h>
#include <coil/task.h>
#include <coil/time.h>

#endif /* COIL_H */
