/* SPDX-License-Identifier: MIT */
/*
 * coil/http.h - HTTP/1.1 on coil: a client session with keep-alive pools
 * (native for http://, libcurl's multi interface driven by the ring for
 * everything else) and a server module. See coil/http_client.h and
 * coil/http_server.h.
 */
#ifndef COIL_HTTP_H
#define COIL_HTTP_H

#include <coil/http_client.h>
#include <coil/http_server.h>

#endif /* COIL_HTTP_H */
