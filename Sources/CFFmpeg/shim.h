// The one C header Swift sees for FFmpeg. Swift cannot import function-like
// macros, so the few VideoIO needs are re-exported here as static inline
// functions.
#ifndef VIDLABEL_CFFMPEG_SHIM_H
#define VIDLABEL_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

/// AVERROR(e): FFmpeg's negative error code for a POSIX errno value.
static inline int vl_averror(int e) { return AVERROR(e); }
/// AVERROR_EOF: end of stream.
static inline int vl_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR_INVALIDDATA: the input is not what the demuxer or decoder expected.
static inline int vl_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AVERROR(EAGAIN): the decoder wants more input / output must be drained first.
static inline int vl_averror_eagain(void) { return AVERROR(EAGAIN); }
/// AV_NOPTS_VALUE: "no timestamp" (a macro with a cast Swift cannot import).
static inline int64_t vl_nopts_value(void) { return AV_NOPTS_VALUE; }
/// Fills `buf` with FFmpeg's message for `errnum` (av_err2str is a macro using a compound literal).
static inline void vl_strerror(int errnum, char *buf, size_t size) { av_strerror(errnum, buf, size); }

#endif
