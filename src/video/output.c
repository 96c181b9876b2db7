/* output.c — annotated video out through libavcodec/libavformat.  One RGB
 * and one YUV frame (both FFmpeg-allocated: swscale reads and writes whole
 * SIMD blocks past a row's end, so it never sees our packed rows) and one
 * packet are allocated at open and reused for every frame. */
#include "video/video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "video/avlib.h"

struct fn_video_writer {
    const fn_avlib *av;          /* FFmpeg's functions (loaded on the first open) */
    char path[1024];
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *yuv;
    AVFrame *rgb;                /* the caller's frame copied here for swscale */
    AVPacket *pkt;
    struct SwsContext *sws;
    int w, h, header_done;
    int64_t next_pts;
    fn_status err;               /* first failure; later calls only report it */
    char err_msg[512];
    char codec[32];
};

static fn_status w_fail(fn_video_writer *vw, fn_status code, const char *what, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    vw->av->av_strerror(err, buf, sizeof buf);
    return fn_fail(code, "%s: %s (%s)", vw->path, what, buf);
}

/* H.264 when the FFmpeg build has an encoder for it (libx264), else MPEG-4. */
static const AVCodec *pick_encoder(const fn_video_writer *vw)
{
    const AVCodec *c = vw->av->avcodec_find_encoder_by_name("libx264");
    if (!c) c = vw->av->avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    return c;
}

static fn_status open_encoder(fn_video_writer *vw, double fps)
{
    const AVCodec *codec = pick_encoder(vw);
    if (!codec) return fn_fail(FN_ERR_UNSUPPORTED, "%s: this FFmpeg has neither an H.264 nor an MPEG-4 encoder", vw->path);
    snprintf(vw->codec, sizeof vw->codec, "%s", codec->name);
    vw->enc = vw->av->avcodec_alloc_context3(codec);
    if (!vw->enc) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for an encoder", vw->path);
    AVRational rate = vw->av->av_d2q(fps > 0 && fps < 1000 ? fps : 25.0, 100000);
    vw->enc->width = vw->w;
    vw->enc->height = vw->h;
    vw->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    vw->enc->time_base = av_inv_q(rate);
    vw->enc->framerate = rate;
    vw->enc->gop_size = 50;
    vw->enc->thread_count = 2;
    if (codec->id == AV_CODEC_ID_MPEG4) vw->enc->bit_rate = (int64_t)vw->w * vw->h * 4;
    else vw->av->av_opt_set(vw->enc->priv_data, "preset", "veryfast", 0);
    if (vw->fmt->oformat->flags & AVFMT_GLOBALHEADER) vw->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int r = vw->av->avcodec_open2(vw->enc, codec, NULL);
    if (r < 0) return w_fail(vw, FN_ERR_UNSUPPORTED, "cannot open the video encoder", r);
    vw->st = vw->av->avformat_new_stream(vw->fmt, NULL);
    if (!vw->st) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for a stream", vw->path);
    vw->st->time_base = vw->enc->time_base;
    r = vw->av->avcodec_parameters_from_context(vw->st->codecpar, vw->enc);
    if (r < 0) return w_fail(vw, FN_ERR_INTERNAL, "cannot describe the stream", r);
    return FN_OK;
}

static fn_status open_file(fn_video_writer *vw)
{
    if (!(vw->fmt->oformat->flags & AVFMT_NOFILE)) {
        int r = vw->av->avio_open(&vw->fmt->pb, vw->path, AVIO_FLAG_WRITE);
        if (r < 0) return w_fail(vw, FN_ERR_IO, "cannot create the file", r);
    }
    int r = vw->av->avformat_write_header(vw->fmt, NULL);
    if (r < 0) return w_fail(vw, FN_ERR_IO, "cannot write the file header", r);
    vw->header_done = 1;
    return FN_OK;
}

static fn_status alloc_frame(fn_video_writer *vw)
{
    vw->yuv = vw->av->av_frame_alloc();
    vw->rgb = vw->av->av_frame_alloc();
    vw->pkt = vw->av->av_packet_alloc();
    if (!vw->yuv || !vw->rgb || !vw->pkt) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for frames", vw->path);
    vw->rgb->format = AV_PIX_FMT_RGB24;
    vw->rgb->width = vw->w;
    vw->rgb->height = vw->h;
    if (vw->av->av_frame_get_buffer(vw->rgb, 64) < 0) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for frames", vw->path);
    vw->yuv->format = AV_PIX_FMT_YUV420P;
    vw->yuv->width = vw->w;
    vw->yuv->height = vw->h;
    if (vw->av->av_frame_get_buffer(vw->yuv, 0) < 0) return fn_fail(FN_ERR_NOMEM, "%s: out of memory for frames", vw->path);
    vw->sws = vw->av->sws_getContext(vw->w, vw->h, AV_PIX_FMT_RGB24, vw->w, vw->h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL,
                             NULL, NULL);
    if (!vw->sws) return fn_fail(FN_ERR_UNSUPPORTED, "%s: cannot convert RGB to YUV", vw->path);
    return FN_OK;
}

static void writer_free(fn_video_writer *vw)
{
    vw->av->sws_freeContext(vw->sws);
    vw->av->av_frame_free(&vw->yuv);
    vw->av->av_frame_free(&vw->rgb);
    vw->av->av_packet_free(&vw->pkt);
    vw->av->avcodec_free_context(&vw->enc);
    if (vw->fmt) {
        if (!(vw->fmt->oformat->flags & AVFMT_NOFILE)) vw->av->avio_closep(&vw->fmt->pb);
        vw->av->avformat_free_context(vw->fmt);
    }
    free(vw);
}

fn_status fn_video_writer_open(const char *path, int w, int h, double fps, fn_video_writer **out)
{
    *out = NULL;
    /* 4:2:0 needs even sides. */
    if (w < 2 || h < 2 || w > 8192 || h > 8192 || (w | h) & 1)
        return fn_fail(FN_ERR_ARG, "%s: cannot write %dx%d video (even sides 2..8192 needed)", path, w, h);
    const fn_avlib *av = NULL;
    if (fn_avlib_get(&av) != FN_OK) return fn_fail_prefix(FN_ERR_UNSUPPORTED, "%s", path);
    fn_video_writer *vw = calloc(1, sizeof *vw);
    if (!vw) return fn_fail(FN_ERR_NOMEM, "%s: out of memory", path);
    vw->av = av;
    snprintf(vw->path, sizeof vw->path, "%s", path);
    vw->w = w;
    vw->h = h;
    fn_status s = FN_OK;
    int r = vw->av->avformat_alloc_output_context2(&vw->fmt, NULL, NULL, path);
    if (r < 0 || !vw->fmt) {
        vw->fmt = NULL;
        s = fn_fail(FN_ERR_ARG, "%s: unknown video container (use .mp4, .mkv or .avi)", path);
    }
    if (s == FN_OK) s = open_encoder(vw, fps);
    if (s == FN_OK) s = alloc_frame(vw);
    if (s == FN_OK) s = open_file(vw);
    if (s != FN_OK) {
        writer_free(vw);
        return s;
    }
    *out = vw;
    return FN_OK;
}

/* Hand f (NULL: flush) to the encoder and write every packet it gives back. */
static fn_status encode(fn_video_writer *vw, AVFrame *f)
{
    int r = vw->av->avcodec_send_frame(vw->enc, f);
    if (r < 0) return w_fail(vw, FN_ERR_INTERNAL, "the encoder refused a frame", r);
    for (;;) {
        r = vw->av->avcodec_receive_packet(vw->enc, vw->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return FN_OK;
        if (r < 0) return w_fail(vw, FN_ERR_INTERNAL, "encoding failed", r);
        /* Without a duration the last frame gets none and players drop it. */
        if (vw->pkt->duration <= 0) vw->pkt->duration = 1;
        vw->av->av_packet_rescale_ts(vw->pkt, vw->enc->time_base, vw->st->time_base);
        vw->pkt->stream_index = vw->st->index;
        r = vw->av->av_interleaved_write_frame(vw->fmt, vw->pkt);
        if (r < 0) return w_fail(vw, FN_ERR_IO, "writing failed", r);
    }
}

static fn_status keep_error(fn_video_writer *vw, fn_status s)
{
    if (s != FN_OK && vw->err == FN_OK) {
        vw->err = s;
        snprintf(vw->err_msg, sizeof vw->err_msg, "%s", fn_last_error());
    }
    return s;
}

fn_status fn_video_writer_write(fn_video_writer *vw, const fn_image *frame)
{
    if (vw->err != FN_OK) return fn_fail(vw->err, "%s", vw->err_msg);
    /* An odd-sized source loses its last column/row: 4:2:0 needs even sides. */
    if (frame->w < vw->w || frame->w > vw->w + 1 || frame->h < vw->h || frame->h > vw->h + 1 || frame->c != 3)
        return fn_fail(FN_ERR_ARG, "%s: frame is %dx%d (%d channels), the video is %dx%d RGB", vw->path, frame->w,
                       frame->h, frame->c, vw->w, vw->h);
    /* The encoder may still hold a reference to the previous frame's planes. */
    if (vw->av->av_frame_make_writable(vw->yuv) < 0) return keep_error(vw, fn_fail(FN_ERR_NOMEM, "%s: out of memory", vw->path));
    for (int y = 0; y < vw->h; y++)
        memcpy(vw->rgb->data[0] + (size_t)y * vw->rgb->linesize[0], frame->data + (size_t)y * frame->w * 3,
               (size_t)vw->w * 3);
    vw->av->sws_scale(vw->sws, (const uint8_t *const *)vw->rgb->data, vw->rgb->linesize, 0, vw->h, vw->yuv->data,
              vw->yuv->linesize);
    vw->yuv->pts = vw->next_pts++;
    return keep_error(vw, encode(vw, vw->yuv));
}

fn_status fn_video_writer_close(fn_video_writer *vw)
{
    if (!vw) return FN_OK;
    fn_status s = vw->err;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vw->err_msg);
    if (s == FN_OK) {
        s = encode(vw, NULL);
        if (s == FN_OK && vw->header_done) {
            int r = vw->av->av_write_trailer(vw->fmt);
            if (r < 0) s = w_fail(vw, FN_ERR_IO, "cannot finish the file", r);
        }
        if (s != FN_OK) snprintf(msg, sizeof msg, "%s", fn_last_error());
    }
    writer_free(vw);
    return s == FN_OK ? FN_OK : fn_fail(s, "%s", msg);
}

const char *fn_video_writer_codec(const fn_video_writer *vw) { return vw->codec; }
