/* mhd.h — libmicrohttpd, loaded when `facenet serve` starts (dlopen by
 * soname), never linked: with GnuTLS behind it, linking it made every
 * facenet command load 10 more shared libraries at start (23 instead of 13;
 * docs/performance.md, "Start-up").  As src/cli/display.c does for SDL2,
 * the calls in the including file go through one table typed from
 * microhttpd.h, filled by fn_srv_mhd_load() before the first call.
 */
#ifndef FN_SERVE_MHD_H
#define FN_SERVE_MHD_H

#include <stddef.h>
#include <microhttpd.h>

#define FN_MHD_FUNCTIONS(X)                                                                               \
    X(MHD_add_response_header) X(MHD_create_response_from_buffer) X(MHD_destroy_response)                  \
    X(MHD_get_connection_values_n) X(MHD_get_daemon_info) X(MHD_http_unescape) X(MHD_lookup_connection_value) \
    X(MHD_queue_response)                                                                                 \
    X(MHD_start_daemon) X(MHD_stop_daemon)

#define FN_MHD_MEMBER(name) __typeof__(&name) name;
typedef struct fn_mhd_lib {
    FN_MHD_FUNCTIONS(FN_MHD_MEMBER)
} fn_mhd_lib;
#undef FN_MHD_MEMBER

/* 0 when loaded (once per process); else -1 with the sentence in why. */
int fn_srv_mhd_load(char *why, size_t cap);
extern fn_mhd_lib fn_srv_mhd;   /* filled by fn_srv_mhd_load, read-only after */

#ifndef FN_MHD_IMPL
#define MHD_add_response_header (fn_srv_mhd.MHD_add_response_header)
#define MHD_create_response_from_buffer (fn_srv_mhd.MHD_create_response_from_buffer)
#define MHD_destroy_response (fn_srv_mhd.MHD_destroy_response)
#define MHD_get_connection_values_n (fn_srv_mhd.MHD_get_connection_values_n)
#define MHD_get_daemon_info (fn_srv_mhd.MHD_get_daemon_info)
#define MHD_http_unescape (fn_srv_mhd.MHD_http_unescape)
#define MHD_lookup_connection_value (fn_srv_mhd.MHD_lookup_connection_value)
#define MHD_queue_response (fn_srv_mhd.MHD_queue_response)
#define MHD_start_daemon (fn_srv_mhd.MHD_start_daemon)
#define MHD_stop_daemon (fn_srv_mhd.MHD_stop_daemon)
#endif

#endif
