/* SPDX-License-Identifier: MIT */
/*
 * coil/http_server.h - the HTTP/1.1 server (being written; see issue #5).
 */
#ifndef COIL_HTTP_SERVER_H
#define COIL_HTTP_SERVER_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* COIL_HTTP_SERVER_H */
