/* latency.c — frame and name latency of the watch loop, as fixed rings of
 * samples; percentiles by sorting a copy (only when asked, not per frame). */
#include <stdlib.h>
#include <string.h>

#include "video/video.h"

void fn_latency_init(fn_latency *l) { memset(l, 0, sizeof *l); }

static void ring_add(fn_latency_ring *r, double v)
{
    r->s[r->next] = v;
    r->next = (r->next + 1) % FN_LATENCY_RING;
    if (r->n < FN_LATENCY_RING) r->n++;
}

/* A track waits for its name from the frame it appeared in; when the table
 * is full the oldest waiter is dropped (it has waited far too long anyway). */
static void pending_add(fn_latency *l, int track, double wall)
{
    if (l->n_pending == FN_LATENCY_PENDING) {
        memmove(l->pending, l->pending + 1, sizeof l->pending[0] * (FN_LATENCY_PENDING - 1));
        l->n_pending--;
    }
    l->pending[l->n_pending].track = track;
    l->pending[l->n_pending].wall = wall;
    l->n_pending++;
}

static int pending_take(fn_latency *l, int track, double *wall)
{
    for (int i = 0; i < l->n_pending; i++)
        if (l->pending[i].track == track) {
            *wall = l->pending[i].wall;
            l->pending[i] = l->pending[--l->n_pending];
            return 1;
        }
    return 0;
}

void fn_latency_frame(fn_latency *l, double avail_wall, double shown_wall, const fn_track_event *ev, int n)
{
    ring_add(&l->frame, shown_wall - avail_wall);
    for (int i = 0; i < n; i++) {
        double since;
        if (ev[i].kind == FN_TRACK_APPEARED) pending_add(l, ev[i].track, avail_wall);
        else if (ev[i].kind == FN_TRACK_IDENTIFIED && pending_take(l, ev[i].track, &since))
            ring_add(&l->name, shown_wall - since);
        else if (ev[i].kind == FN_TRACK_LEFT) pending_take(l, ev[i].track, &since);   /* never named */
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fn_latency_percentile(fn_latency *l, int which, double p, int *count)
{
    const fn_latency_ring *r = which ? &l->name : &l->frame;
    *count = r->n;
    if (r->n == 0) return -1;
    memcpy(l->sorted, r->s, sizeof(double) * (size_t)r->n);
    qsort(l->sorted, (size_t)r->n, sizeof(double), cmp_double);
    int k = (int)(p / 100.0 * (r->n - 1) + 0.5);
    return l->sorted[k < 0 ? 0 : k >= r->n ? r->n - 1 : k];
}
