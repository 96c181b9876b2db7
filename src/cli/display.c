/* display.c — SDL2 window: one streaming texture, updated per frame.
 * SDL2 is loaded (dlopen by soname) when a window is first opened, never
 * linked: every other command starts without it.  Its functions are looked
 * up once (pthread_once) into a table whose pointers have the real
 * functions' types, so calls stay type-checked. */
#include "display.h"

#include <SDL2/SDL.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SDL_SONAME "libSDL2-2.0.so.0"

#define FN_SDL_FUNCTIONS(X)                                                                                   \
    X(SDL_Init) X(SDL_Quit) X(SDL_GetError) X(SDL_CreateWindow) X(SDL_DestroyWindow) X(SDL_CreateRenderer)    \
    X(SDL_DestroyRenderer) X(SDL_CreateTexture) X(SDL_DestroyTexture) X(SDL_UpdateTexture) X(SDL_RenderClear) \
    X(SDL_RenderCopy) X(SDL_RenderPresent) X(SDL_PollEvent)

#define FN_SDL_MEMBER(name) __typeof__(&name) name;
typedef struct sdl_lib {
    FN_SDL_FUNCTIONS(FN_SDL_MEMBER)
    int ok;
    char error[400];
} sdl_lib;
#undef FN_SDL_MEMBER

static sdl_lib sdl;   /* filled once by load_sdl, read-only after */

static void load_sdl(void)
{
    void *h = dlopen(SDL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(sdl.error, sizeof sdl.error, "no window: %s cannot be loaded (%s); install it (Debian: apt install libsdl2-2.0-0)",
                 SDL_SONAME, why ? why : "not found");
        return;
    }
#define FN_SDL_FIND(name)                                                                          \
    if (!(sdl.name = (__typeof__(&name))dlsym(h, #name))) {                                        \
        snprintf(sdl.error, sizeof sdl.error, "no window: %s has no function %s", SDL_SONAME, #name); \
        return;                                                                                    \
    }
    FN_SDL_FUNCTIONS(FN_SDL_FIND)
#undef FN_SDL_FIND
    sdl.ok = 1;
}

struct fn_display {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int w, h;
};

int fn_display_open(const char *source, int w, int h, fn_display **out, char *why, size_t cap)
{
    *out = NULL;
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    if ((!x || !*x) && (!wl || !*wl)) {
        snprintf(why, cap, "no display (DISPLAY is not set)");
        return 1;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_sdl);
    if (!sdl.ok) {
        snprintf(why, cap, "%s", sdl.error);
        return 1;
    }
    if (sdl.SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(why, cap, "no window: %s", sdl.SDL_GetError());
        return 1;
    }
    fn_display *d = calloc(1, sizeof *d);
    char title[512];
    snprintf(title, sizeof title, "facenet watch %s (Enter, Esc or q closes)", source);
    if (d) d->win = sdl.SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h, SDL_WINDOW_RESIZABLE);
    if (d && d->win) d->ren = sdl.SDL_CreateRenderer(d->win, -1, 0);
    if (d && d->ren) d->tex = sdl.SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!d || !d->tex) {
        snprintf(why, cap, "no window: %s", d ? sdl.SDL_GetError() : "out of memory");
        fn_display_close(d);
        if (!d) sdl.SDL_Quit();
        return 1;
    }
    d->w = w;
    d->h = h;
    *out = d;
    return 0;
}

static int wants_quit(void)
{
    SDL_Event ev;
    while (sdl.SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT) return 1;
        if (ev.type == SDL_KEYDOWN) {
            SDL_Keycode k = ev.key.keysym.sym;
            if (k == SDLK_ESCAPE || k == SDLK_RETURN || k == SDLK_KP_ENTER || k == SDLK_q) return 1;
        }
    }
    return 0;
}

int fn_display_show(fn_display *d, const fn_image *img)
{
    sdl.SDL_UpdateTexture(d->tex, NULL, img->data, img->w * 3);
    sdl.SDL_RenderClear(d->ren);
    sdl.SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    sdl.SDL_RenderPresent(d->ren);
    return wants_quit();
}

void fn_display_close(fn_display *d)
{
    if (!d) return;
    if (d->tex) sdl.SDL_DestroyTexture(d->tex);
    if (d->ren) sdl.SDL_DestroyRenderer(d->ren);
    if (d->win) sdl.SDL_DestroyWindow(d->win);
    free(d);
    sdl.SDL_Quit();
}

void fn_display_label(fn_image *img, const char *text)
{
    fn_draw_label(img, 4, 4, text, 2, (fn_rgb){255, 255, 255}, (fn_rgb){0, 0, 0});
}
