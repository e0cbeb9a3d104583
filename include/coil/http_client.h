/* SPDX-License-Identifier: MIT */
/*
 * coil/http_client.h - the HTTP/1.1 client (being written; see issue #5).
 */
#ifndef COIL_HTTP_CLIENT_H
#define COIL_HTTP_CLIENT_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* COIL_HTTP_CLIENT_H */
