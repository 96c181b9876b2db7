/* source.c — FFmpeg input.  Every frame is decoded once, converted by
 * swscale into an RGB frame FFmpeg allocated (aligned and padded as its SIMD
 * code writes whole blocks past the row end) and copied from there, turned
 * upright by the stream's display matrix, into one of three packed RGB
 * buffers allocated at open.  Every source decodes on its own thread, one
 * frame ahead of the caller.  On a live source a frame the caller has not
 * taken when the next one is ready is overwritten (dropped), so a slow
 * caller always gets the newest; a file waits for the caller instead, so
 * every frame is handed out. */
#include "video/video.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "video/avlib.h"
#include "image/image.h"

/* Decoded frames larger than this are refused (a hostile header). */
#define MAX_SIDE 8192

struct fn_video_source {
    const fn_avlib *av;           /* FFmpeg's functions (loaded on the first open) */
    char url[1024];
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frm;
    AVFrame *rgb;                 /* swscale's output, FFmpeg-allocated (stored orientation) */
    struct SwsContext *sws;
    int stream;
    double time_base, start;
    fn_video_info info;
    int orientation;              /* EXIF-style 1..8 from the display matrix: how to turn frames upright */
    int stored_w, stored_h;       /* the stream's size before turning */
    int64_t expected;             /* frames the container announces (0: it does not say) */
    int expected_exact;           /* expected is the container's frame count, not duration x rate */
    int is_file;                  /* a file or image sequence (not a device or network stream) */
    atomic_llong decoded;         /* frames decoded (by whichever thread reads) */
    atomic_int ended_early;       /* reading failed after some frames: treated as the end */
    char warning[1400];           /* what was cut short ("" if nothing), built on demand */
    int sws_fmt, sws_w, sws_h;    /* what sws was made for (the stream may change) */

    /* Frame buffers: front (the caller's), ready (newest decoded), back (decoding). */
    fn_image buf[3];
    double buf_t[3];
    double buf_wall[3];           /* monotonic time each buffer's frame became available */
    double front_wall;
    int front, ready, back;
    int have_ready, eof;
    fn_status err;                /* the reader thread's failure, sentence in err_msg */
    char err_msg[512];
    int64_t dropped;
    int64_t frames;               /* handed out by the unthreaded reader */

    int threaded, realtime;
    atomic_int stop;              /* close asked the reader to end; also aborts blocking reads */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static fn_status av_fail(const fn_video_source *v, fn_status code, const char *what, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    v->av->av_strerror(err, buf, sizeof buf);
    return fn_fail(code, "%s: %s (%s)", v->url, what, buf);
}

/* FFmpeg polls this during blocking I/O: closing a source stuck on a
 * silent camera or stream returns at once. */
static int interrupted(void *opaque) { return atomic_load(&((fn_video_source *)opaque)->stop); }

static int is_device(const char *url) { return !strncmp(url, "/dev/video", 10); }
/* What a network source may open, itself and what it names (segments, keys). */
#define NETWORK_PROTOCOLS "http,https,tls,tcp,udp,rtp,srtp,rtsp,rtsps,rtmp,rtmps,hls,crypto,data,httpproxy"
static int is_network(const char *url) { return strstr(url, "://") != NULL && strncmp(url, "file:", 5) != 0; }

static fn_status open_input(fn_video_source *v)
{
    const AVInputFormat *ifmt = NULL;
    AVDictionary *opt = NULL;
    if (is_device(v->url)) {
        struct stat st;
        if (stat(v->url, &st) != 0)
            return fn_fail(FN_ERR_NOT_FOUND, "%s: no such video device (is the camera connected?)", v->url);
        FN_TRY(fn_avlib_devices());
        ifmt = v->av->av_find_input_format("video4linux2");
        if (!ifmt) return fn_fail(FN_ERR_UNSUPPORTED, "%s: this FFmpeg has no V4L2 input", v->url);
    } else if (is_network(v->url)) {
        v->av->av_dict_set(&opt, "rw_timeout", "5000000", 0);   /* microseconds: a dead server must not hang us */
        v->av->av_dict_set(&opt, "timeout", "5000000", 0);
        /* A stream may name further URLs (HLS playlists, DASH manifests):
         * network protocols only, never file: (a remote playlist must not
         * make us read local files). */
        v->av->av_dict_set(&opt, "protocol_whitelist", NETWORK_PROTOCOLS, 0);
    } else {
        /* A local file may name further URLs too (an .m3u8 playlist, a
         * concat list): local files only, so that opening a file never
         * reaches the network (FFmpeg's HLS/concat SSRF class of faults). */
        struct stat st;
        if (!strchr(v->url, '%')) {   /* not an image sequence pattern */
            if (stat(v->url, &st) != 0) return fn_fail(FN_ERR_IO, "%s: no such file", v->url);
            if (S_ISDIR(st.st_mode)) return fn_fail(FN_ERR_ARG, "%s: is a directory, not a video", v->url);
        }
        v->av->av_dict_set(&opt, "protocol_whitelist", "file,pipe", 0);
    }
    v->fmt = v->av->avformat_alloc_context();
    if (!v->fmt) {
        v->av->av_dict_free(&opt);
        return fn_fail(FN_ERR_NOMEM, "%s: out of memory", v->url);
    }
    v->fmt->interrupt_callback.callback = interrupted;
    v->fmt->interrupt_callback.opaque = v;
    int r = v->av->avformat_open_input(&v->fmt, v->url, ifmt, &opt);
    v->av->av_dict_free(&opt);
    if (r < 0) {
        v->fmt = NULL;
        return av_fail(v, r == AVERROR_INVALIDDATA ? FN_ERR_FORMAT : FN_ERR_IO, "cannot open as a video", r);
    }
    r = v->av->avformat_find_stream_info(v->fmt, NULL);
    if (r < 0) return av_fail(v, FN_ERR_FORMAT, "cannot read the stream layout", r);
    return FN_OK;
}

/* EXIF-style orientation (1..8) that turns a stream's stored pixels upright,
 * from its display matrix (phone clips: rotation 90/270/180, some mirrored).
 * The decision is ffmpeg's own autorotate (fftools, FFmpeg 6.1): the angle is
 * -av_display_rotation_get(); 90 is transpose "clock" (EXIF 6) or, mirrored
 * (m[3] > 0), "cclock_flip" (5); 270 is "cclock" (8) or "clock_flip" (7);
 * 180 is hflip when m[0] < 0 and vflip when m[4] < 0; 0 is vflip when m[4] < 0.
 * Other angles are not quarter turns and are left as stored. */
static int stream_orientation(const fn_video_source *v, const AVStream *st)
{
    const int32_t *m = (const int32_t *)v->av->av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m) return 1;
    double theta = -v->av->av_display_rotation_get(m);
    if (!isfinite(theta)) return 1;
    theta -= 360.0 * floor(theta / 360.0 + 0.9 / 360.0);
    if (fabs(theta - 90.0) < 1.0) return m[3] > 0 ? 5 : 6;
    if (fabs(theta - 270.0) < 1.0) return m[3] < 0 ? 7 : 8;
    if (fabs(theta - 180.0) < 1.0) {
        int hflip = m[0] < 0, vflip = m[4] < 0;
        return hflip && vflip ? 3 : hflip ? 2 : vflip ? 4 : 1;
    }
    if (fabs(theta) < 1.0 || fabs(theta - 360.0) < 1.0) return m[4] < 0 ? 4 : 1;
    return 1;
}

/* Frames the container says the stream has: its frame count, else its
 * duration times the frame rate; 0 when it says neither (live, raw). */
static int64_t expected_frames(const fn_video_source *v, const AVStream *st)
{
    if (st->nb_frames > 0) return st->nb_frames;
    double secs = 0.0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) secs = (double)st->duration * av_q2d(st->time_base);
    else if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0) secs = (double)v->fmt->duration / AV_TIME_BASE;
    AVRational fr = v->av->av_guess_frame_rate(v->fmt, (AVStream *)st, NULL);
    if (secs <= 0.0 || fr.num <= 0 || fr.den <= 0 || secs > 1e7) return 0;
    return (int64_t)llround(secs * av_q2d(fr));
}

static fn_status open_decoder(fn_video_source *v)
{
    const AVCodec *codec = NULL;
    int r = v->av->av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r == AVERROR_STREAM_NOT_FOUND) return fn_fail(FN_ERR_FORMAT, "%s: has no video stream", v->url);
    if (r == AVERROR_DECODER_NOT_FOUND || !codec)
        return fn_fail(FN_ERR_UNSUPPORTED, "%s: no decoder for its video codec", v->url);
    if (r < 0) return av_fail(v, FN_ERR_FORMAT, "no usable video stream", r);
    v->stream = r;
    AVStream *st = v->fmt->streams[r];
    v->dec = v->av->avcodec_alloc_context3(codec);
    if (!v->dec) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for a decoder", v->url);
    v->av->avcodec_parameters_to_context(v->dec, st->codecpar);
    v->dec->thread_count = 2;
    /* A frame may claim another size than the header (a 724-byte WebM's VP8
     * frame said 13840x9585): refuse to decode more than MAX_SIDE^2 pixels. */
    v->dec->max_pixels = (int64_t)MAX_SIDE * MAX_SIDE;
    r = v->av->avcodec_open2(v->dec, codec, NULL);
    if (r < 0) return av_fail(v, FN_ERR_UNSUPPORTED, "cannot open the video decoder", r);
    int w = v->dec->width, h = v->dec->height;
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return fn_fail(FN_ERR_FORMAT, "%s: video size %dx%d is not usable (1..%d)", v->url, w, h, MAX_SIDE);
    v->time_base = av_q2d(st->time_base);
    v->start = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time * v->time_base : 0.0;
    AVRational fr = v->av->av_guess_frame_rate(v->fmt, st, NULL);
    v->stored_w = w;
    v->stored_h = h;
    v->orientation = stream_orientation(v, st);
    v->info.w = v->orientation >= 5 ? h : w;
    v->info.h = v->orientation >= 5 ? w : h;
    v->info.fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 25.0;
    v->info.orientation = v->orientation;
    v->expected = expected_frames(v, st);
    v->expected_exact = st->nb_frames > 0;
    return FN_OK;
}

static fn_status alloc_buffers(fn_video_source *v)
{
    v->pkt = v->av->av_packet_alloc();
    v->frm = v->av->av_frame_alloc();
    v->rgb = v->av->av_frame_alloc();
    if (!v->pkt || !v->frm || !v->rgb) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for frames", v->url);
    /* swscale writes RGB24 rows in SIMD blocks past the last pixel: its
     * output must be a frame FFmpeg allocated (linesize aligned, rows and
     * planes padded), never our packed w*3 rows. */
    v->rgb->format = AV_PIX_FMT_RGB24;
    v->rgb->width = v->stored_w;
    v->rgb->height = v->stored_h;
    if (v->av->av_frame_get_buffer(v->rgb, 64) < 0) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for frames", v->url);
    for (int i = 0; i < 3; i++) FN_TRY(fn_image_alloc(&v->buf[i], v->info.w, v->info.h, 3));
    v->front = 0;
    v->ready = 1;
    v->back = 2;
    return FN_OK;
}

/* Convert the decoded frame into dst, upright.  A stream whose size changes
 * midway is scaled to the size announced at open, so the buffers never move. */
static fn_status convert(fn_video_source *v, fn_image *dst)
{
    AVFrame *f = v->frm;
    if (f->width <= 0 || f->height <= 0 || f->width > MAX_SIDE || f->height > MAX_SIDE)
        return fn_fail(FN_ERR_FORMAT, "%s: a frame of %dx%d is not usable (1..%d)", v->url, f->width, f->height, MAX_SIDE);
    if (!v->sws || v->sws_fmt != f->format || v->sws_w != f->width || v->sws_h != f->height) {
        v->sws = v->av->sws_getCachedContext(v->sws, f->width, f->height, f->format, v->stored_w, v->stored_h, AV_PIX_FMT_RGB24,
                                      SWS_BILINEAR, NULL, NULL, NULL);
        if (!v->sws) return fn_fail(FN_ERR_UNSUPPORTED, "%s: cannot convert its pixel format to RGB", v->url);
        v->sws_fmt = f->format;
        v->sws_w = f->width;
        v->sws_h = f->height;
    }
    v->av->sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, v->rgb->data, v->rgb->linesize);
    fn_image_orient_copy(v->rgb->data[0], v->stored_w, v->stored_h, (size_t)v->rgb->linesize[0], v->orientation, dst);
    return FN_OK;
}

static double frame_time(const fn_video_source *v)
{
    int64_t pts = v->frm->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) return -1.0;
    return (double)pts * v->time_base - v->start;
}

/* Decode the next frame into dst.  *eof = 1 when the input has ended. */
static fn_status decode_next(fn_video_source *v, fn_image *dst, double *t, int *eof)
{
    *eof = 0;
    for (;;) {
        int r = v->av->avcodec_receive_frame(v->dec, v->frm);
        if (r == 0) {
            v->decoded++;
            *t = frame_time(v);
            fn_status s = convert(v, dst);
            v->av->av_frame_unref(v->frm);
            return s;
        }
        if (r == AVERROR_EOF) { *eof = 1; return FN_OK; }
        if (r != AVERROR(EAGAIN)) return av_fail(v, FN_ERR_FORMAT, "video data cannot be decoded", r);
        r = v->av->av_read_frame(v->fmt, v->pkt);
        if (r == AVERROR_EOF) {
            v->av->avcodec_send_packet(v->dec, NULL);   /* drain the decoder's delayed frames */
            continue;
        }
        /* A file cut short (a copy or recording that stopped) fails its next
         * read: what was there is the video, with a warning saying so. */
        if (r < 0 && r != AVERROR_EXIT && atomic_load(&v->decoded) > 0 && v->is_file) {
            atomic_store(&v->ended_early, 1);
            v->av->avcodec_send_packet(v->dec, NULL);
            continue;
        }
        if (r < 0) return av_fail(v, FN_ERR_IO, "reading failed", r);
        if (v->pkt->stream_index == v->stream) {
            r = v->av->avcodec_send_packet(v->dec, v->pkt);
            /* A damaged packet loses one frame, not the stream. */
            if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA) {
                v->av->av_packet_unref(v->pkt);
                return av_fail(v, FN_ERR_FORMAT, "video data cannot be decoded", r);
            }
        }
        v->av->av_packet_unref(v->pkt);
    }
}


/* A file read as if live waits until each frame's time has come. */
static void pace(fn_video_source *v, double t, double t0_wall)
{
    if (!v->realtime || t < 0) return;
    double wait = t0_wall + t - fn_now();
    if (wait <= 0) return;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
}

static void *reader(void *arg)
{
    fn_video_source *v = arg;
    double t0 = fn_now();
    int64_t count = 0;
    for (;;) {
        pthread_mutex_lock(&v->lock);
        /* A file keeps every frame: wait until the caller took the last one. */
        while (!v->info.live && v->have_ready && !atomic_load(&v->stop)) pthread_cond_wait(&v->cond, &v->lock);
        int back = v->back;
        pthread_mutex_unlock(&v->lock);
        if (atomic_load(&v->stop)) break;
        double t = 0;
        int eof = 0;
        fn_status s = decode_next(v, &v->buf[back], &t, &eof);
        /* Without timestamps (some image sequences), time follows the frame rate. */
        if (s == FN_OK && !eof && t < 0) t = (double)count / v->info.fps;
        count++;
        if (s == FN_OK && !eof) pace(v, t, t0);
        double wall = fn_now();
        pthread_mutex_lock(&v->lock);
        if (s != FN_OK || eof) {
            v->err = s;
            if (s != FN_OK) snprintf(v->err_msg, sizeof v->err_msg, "%s", fn_last_error());
            v->eof = 1;
        } else {
            if (v->have_ready) v->dropped++;
            v->buf_t[back] = t;
            v->buf_wall[back] = wall;
            v->back = v->ready;
            v->ready = back;
            v->have_ready = 1;
        }
        pthread_cond_broadcast(&v->cond);
        pthread_mutex_unlock(&v->lock);
        if (s != FN_OK || eof) break;
    }
    return NULL;
}

fn_status fn_video_open(const char *url, int realtime, fn_video_source **out)
{
    *out = NULL;
    if (!url || !*url) return fn_fail(FN_ERR_ARG, "no video source given");
    const fn_avlib *av = NULL;
    if (fn_avlib_get(&av) != FN_OK) return fn_fail_prefix(FN_ERR_UNSUPPORTED, "%s", url);
    fn_video_source *v = calloc(1, sizeof *v);
    if (!v) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", url);
    v->av = av;
    snprintf(v->url, sizeof v->url, "%s", url);
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    v->realtime = realtime;
    v->info.live = realtime || is_device(url) || is_network(url);
    v->is_file = !is_device(url) && !is_network(url);
    fn_status s = open_input(v);
    if (s == FN_OK) s = open_decoder(v);
    if (s == FN_OK) s = alloc_buffers(v);
    if (s == FN_OK) {
        if (pthread_create(&v->thread, NULL, reader, v) != 0) s = fn_fail(FN_ERR_INTERNAL, "%s: cannot start the reader thread", url);
        else v->threaded = 1;
    }
    if (s != FN_OK) {
        fn_video_close(v);
        return s;
    }
    *out = v;
    return FN_OK;
}

static fn_status read_threaded(fn_video_source *v, const fn_image **frame, double *t, int *eof)
{
    pthread_mutex_lock(&v->lock);
    while (!v->have_ready && !v->eof) pthread_cond_wait(&v->cond, &v->lock);
    fn_status s = FN_OK;
    if (v->have_ready) {
        int f = v->front;
        v->front = v->ready;
        v->ready = f;
        v->have_ready = 0;
        *frame = &v->buf[v->front];
        *t = v->buf_t[v->front];
        /* A file's next frame is there whenever it is asked for: its latency
         * starts at the asking, not at a decode that ran ahead. */
        v->front_wall = v->info.live ? v->buf_wall[v->front] : fn_now();
        pthread_cond_broadcast(&v->cond);   /* a file's reader waits for this slot */
    } else if (v->err != FN_OK) {
        s = fn_fail(v->err, "%s", v->err_msg);
    } else {
        *eof = 1;
    }
    pthread_mutex_unlock(&v->lock);
    return s;
}

fn_status fn_video_read(fn_video_source *v, const fn_image **frame, double *t, int *eof)
{
    *frame = NULL;
    *t = 0;
    *eof = 0;
    if (v->threaded) return read_threaded(v, frame, t, eof);
    double ft = -1.0;
    FN_TRY(decode_next(v, &v->buf[v->front], &ft, eof));
    if (*eof) return FN_OK;
    v->front_wall = fn_now();
    /* Without timestamps (some image sequences), time follows the frame rate. */
    if (ft < 0) ft = (double)v->frames / v->info.fps;
    v->frames++;
    *frame = &v->buf[v->front];
    *t = ft;
    return FN_OK;
}

fn_video_info fn_video_source_info(const fn_video_source *v) { return v->info; }

double fn_video_frame_wall(const fn_video_source *v) { return v->front_wall; }


int64_t fn_video_dropped(const fn_video_source *v)
{
    fn_video_source *m = (fn_video_source *)v;
    pthread_mutex_lock(&m->lock);
    int64_t d = v->dropped;
    pthread_mutex_unlock(&m->lock);
    return d;
}

void fn_video_frame_counts(const fn_video_source *v, int64_t *read, int64_t *expected)
{
    if (read) *read = atomic_load(&((fn_video_source *)v)->decoded);
    if (expected) *expected = v->expected;
}

const char *fn_video_warning(fn_video_source *v)
{
    int64_t got = atomic_load(&v->decoded);
    /* A duration x rate estimate may be one frame off; a frame count is not. */
    int short_of_count = v->expected > 0 && got < v->expected - (v->expected_exact ? 0 : 1);
    v->warning[0] = '\0';
    if (atomic_load(&v->ended_early) || short_of_count) {
        if (v->expected > 0)
            snprintf(v->warning, sizeof v->warning,
                     "%s: the video ends after %lld of the %lld frames its container announces (%.0f %%); "
                     "the file looks cut short, what was there was used", v->url, (long long)got,
                     (long long)v->expected, 100.0 * (double)got / (double)v->expected);
        else
            snprintf(v->warning, sizeof v->warning,
                     "%s: reading failed after %lld frames; the file looks cut short, what was there was used",
                     v->url, (long long)got);
    }
    return v->warning;
}

void fn_video_close(fn_video_source *v)
{
    if (!v) return;
    if (v->threaded) {
        pthread_mutex_lock(&v->lock);
        atomic_store(&v->stop, 1);
        pthread_cond_broadcast(&v->cond);
        pthread_mutex_unlock(&v->lock);
        pthread_join(v->thread, NULL);
    }
    for (int i = 0; i < 3; i++) fn_image_free(&v->buf[i]);
    v->av->sws_freeContext(v->sws);
    v->av->av_frame_free(&v->frm);
    v->av->av_frame_free(&v->rgb);
    v->av->av_packet_free(&v->pkt);
    v->av->avcodec_free_context(&v->dec);
    v->av->avformat_close_input(&v->fmt);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
    free(v);
}
