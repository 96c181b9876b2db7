/* display.c — SDL2 window: one streaming texture, updated per frame. */
#include "display.h"

#include <SDL2/SDL.h>
#include <stdio.h>
#include <stdlib.h>


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
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(why, cap, "no window: %s", SDL_GetError());
        return 1;
    }
    fn_display *d = calloc(1, sizeof *d);
    char title[512];
    snprintf(title, sizeof title, "facenet watch %s (Enter, Esc or q closes)", source);
    if (d) d->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h, SDL_WINDOW_RESIZABLE);
    if (d && d->win) d->ren = SDL_CreateRenderer(d->win, -1, 0);
    if (d && d->ren) d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!d || !d->tex) {
        snprintf(why, cap, "no window: %s", d ? SDL_GetError() : "out of memory");
        fn_display_close(d);
        if (!d) SDL_Quit();
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
    while (SDL_PollEvent(&ev)) {
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
    SDL_UpdateTexture(d->tex, NULL, img->data, img->w * 3);
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
    return wants_quit();
}

void fn_display_close(fn_display *d)
{
    if (!d) return;
    if (d->tex) SDL_DestroyTexture(d->tex);
    if (d->ren) SDL_DestroyRenderer(d->ren);
    if (d->win) SDL_DestroyWindow(d->win);
    free(d);
    SDL_Quit();
}

void fn_display_label(fn_image *img, const char *text)
{
    fn_draw_label(img, 4, 4, text, 2, (fn_rgb){255, 255, 255}, (fn_rgb){0, 0, 0});
}
