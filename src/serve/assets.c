/* assets.c — the web page's files, embedded in the binary when it is built
 * (the assembler's .incbin reads src/serve/web/ at compile time; the
 * Makefile makes this object depend on those files).  Requests can name only
 * the paths in this table: nothing reaches the filesystem. */
#include <string.h>

#include "srv.h"

#define ASSET(sym, file) \
    __asm__(".section .rodata\n.global " #sym "\n.hidden " #sym "\n.balign 16\n" #sym ":\n.incbin \"" file "\"\n" \
            ".global " #sym "_end\n.hidden " #sym "_end\n" #sym "_end:\n.byte 0\n.previous\n"); \
    extern const unsigned char sym[], sym##_end[];

ASSET(fn_srv_index_html, "src/serve/web/index.html")
ASSET(fn_srv_app_js, "src/serve/web/app.js")
ASSET(fn_srv_style_css, "src/serve/web/style.css")
ASSET(fn_srv_openapi_json, "src/serve/web/openapi.json")

static const struct { const char *path, *ctype; const unsigned char *start, *end; } assets[] = {
    {"/", "text/html; charset=utf-8", fn_srv_index_html, fn_srv_index_html_end},
    {"/index.html", "text/html; charset=utf-8", fn_srv_index_html, fn_srv_index_html_end},
    {"/app.js", "text/javascript; charset=utf-8", fn_srv_app_js, fn_srv_app_js_end},
    {"/style.css", "text/css; charset=utf-8", fn_srv_style_css, fn_srv_style_css_end},
    {"/openapi.json", "application/json", fn_srv_openapi_json, fn_srv_openapi_json_end},
};

const unsigned char *srv_asset(const char *path, size_t *len, const char **ctype)
{
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (!strcmp(path, assets[i].path)) {
            *len = (size_t)(assets[i].end - assets[i].start);
            *ctype = assets[i].ctype;
            return assets[i].start;
        }
    return NULL;
}
