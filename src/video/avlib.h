/* avlib.h — FFmpeg, loaded when the first video is opened (dlopen by
 * soname), never linked: a program that reads only images does not pay for
 * loading FFmpeg's ~200 libraries at start.  The calls source.c and output.c
 * make go through one table of function pointers, filled once per process
 * (pthread_once) and read-only after; each pointer has the type of the real
 * function (declared from FFmpeg's own headers), so calls stay type-checked.
 * Private to src/video.
 */
#ifndef FN_VIDEO_AVLIB_H
#define FN_VIDEO_AVLIB_H

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "facenet/core.h"

/* X(library, function) for every FFmpeg function the module calls. */
#define FN_AV_FUNCTIONS(X)                                                                                 \
    X(avutil, av_log_set_level) X(avutil, av_strerror) X(avutil, av_dict_set) X(avutil, av_dict_free)    \
    X(avutil, av_display_rotation_get) X(avutil, av_frame_alloc) X(avutil, av_frame_free)               \
    X(avutil, av_frame_get_buffer) X(avutil, av_frame_unref) X(avutil, av_frame_make_writable)          \
    X(avutil, av_d2q) X(avutil, av_opt_set)                                                              \
    X(avcodec, avcodec_alloc_context3) X(avcodec, avcodec_free_context)                                  \
    X(avcodec, avcodec_parameters_to_context) X(avcodec, avcodec_parameters_from_context)               \
    X(avcodec, avcodec_open2) X(avcodec, avcodec_send_packet) X(avcodec, avcodec_receive_frame)         \
    X(avcodec, avcodec_send_frame) X(avcodec, avcodec_receive_packet) X(avcodec, avcodec_find_encoder)  \
    X(avcodec, avcodec_find_encoder_by_name) X(avcodec, av_packet_alloc) X(avcodec, av_packet_free)     \
    X(avcodec, av_packet_unref) X(avcodec, av_packet_rescale_ts)                                         \
    X(avformat, avformat_alloc_context) X(avformat, avformat_open_input) X(avformat, avformat_close_input) \
    X(avformat, avformat_find_stream_info) X(avformat, av_find_input_format) X(avformat, av_find_best_stream) \
    X(avformat, av_stream_get_side_data) X(avformat, av_guess_frame_rate) X(avformat, av_read_frame)    \
    X(avformat, avformat_alloc_output_context2) X(avformat, avformat_free_context)                       \
    X(avformat, avformat_new_stream) X(avformat, avformat_write_header) X(avformat, av_write_trailer)   \
    X(avformat, av_interleaved_write_frame) X(avformat, avio_open) X(avformat, avio_closep)             \
    X(swscale, sws_getContext) X(swscale, sws_getCachedContext) X(swscale, sws_scale)                   \
    X(swscale, sws_freeContext)

#define FN_AV_MEMBER(lib, name) __typeof__(&name) name;
typedef struct fn_avlib {
    FN_AV_FUNCTIONS(FN_AV_MEMBER)
} fn_avlib;
#undef FN_AV_MEMBER

/* The table (libavutil, libavcodec, libavformat, libswscale loaded, FFmpeg's
 * logging off).  FN_ERR_UNSUPPORTED naming the library or function that is
 * missing; the first outcome is the process's (loaded once). */
fn_status fn_avlib_get(const fn_avlib **out);
/* libavdevice loaded and its capture devices registered (V4L2 cameras),
 * once; only a device needs it, and it pulls SDL2, X11, OpenCL and more.
 * FN_ERR_UNSUPPORTED naming it when it is missing. */
fn_status fn_avlib_devices(void);

#endif
