// The one thing Swift cannot express: libbpf's printf-style callback (a va_list), which this file
// formats into a buffer handed on in chunks.
#include "CBTFDumpShim.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

struct bpfrun_btf_c_dump {
    struct btf *btf;
    size_t size;
};

struct output_buffer {
    char data[1 << 16];
    size_t length;
    /// Everything handed on so far.
    size_t flushed;
    int failed;
    /// Whether the previous callback's format was exactly "(" (a prototype's parameter list).
    int after_open_parenthesis;
    bpfrun_btf_dump_write write;
    void *context;
};

/// The most C text a dump may produce (a whole kernel's vmlinux.h is a few MiB). A struct whose
/// size field claims gigabytes makes libbpf pad it with `long: 64;` lines; stop instead.
static const size_t maximum_output = (size_t)64 << 20;

/// Hands the buffered text on; past `maximum_output` in all, the dump fails (at most one buffer later).
static void flush(struct output_buffer *buffer) {
    if (buffer->length == 0) return;
    buffer->write(buffer->context, buffer->data, buffer->length);
    buffer->flushed += buffer->length;
    buffer->length = 0;
    if (buffer->flushed > maximum_output) buffer->failed = -EFBIG;
}

static void append(struct output_buffer *buffer, const char *text, size_t length) {
    while (length > 0) {
        if (buffer->length == sizeof(buffer->data)) flush(buffer);
        size_t count = sizeof(buffer->data) - buffer->length;
        if (count > length) count = length;
        memcpy(buffer->data + buffer->length, text, count);
        buffer->length += count;
        text += count;
        length -= count;
    }
}

// bpftool 7.1 carries the libbpf of Linux 6.1-stable, whose C dumper differs from libbpf 1.1.2's
// in two ways, both visible in single callback formats: it writes an empty parameter list as
// "(void)" where 1.1.2 writes "()", and it has no mode(byte)/mode(word) attribute after enums of
// unusual sizes. This maps 1.1.2's output to 6.1's (a later libbpf already writes "void)").
static int rewrite_for_bpftool_7_1(struct output_buffer *buffer, const char *format) {
    int after_open = buffer->after_open_parenthesis;
    buffer->after_open_parenthesis = format[0] == '(' && format[1] == '\0';
    if (format[0] == ' ' && (strcmp(format, " __attribute__((mode(byte)))") == 0
                             || strcmp(format, " __attribute__((mode(word)))") == 0))
        return 1;
    if (after_open && format[0] == ')' && format[1] == '\0') {
        append(buffer, "void)", 5);
        return 1;
    }
    return 0;
}

/// Whether `format` uses only what `format_simply` formats: text, `%%`, `%s`, `%c`, and `%d`, `%i`, `%u`, `%x`
/// with the length modifiers `hh`, `h`, `l`, `ll`, `z`, `j`, `t` (no flags, width or precision).
static int is_simple(const char *format) {
    for (const char *p = format; *p; p++) {
        if (*p != '%') continue;
        p++;
        if (*p == '%' || *p == 's' || *p == 'c') continue;
        while (*p == 'h' || *p == 'l' || *p == 'z' || *p == 'j' || *p == 't') p++;
        if (*p != 'd' && *p != 'i' && *p != 'u' && *p != 'x') return 0;
    }
    return 1;
}

/// Where `format_simply` writes: a cursor into the buffer, kept in locals rather than in the buffer (whose
/// bytes may alias its length) while a callback's text is written.
struct cursor {
    struct output_buffer *buffer;
    char *at;
    char *end;
};

static inline void put(struct cursor *cursor, char character) {
    if (cursor->at == cursor->end) {
        cursor->buffer->length = sizeof(cursor->buffer->data);
        flush(cursor->buffer);
        cursor->at = cursor->buffer->data;
    }
    *cursor->at++ = character;
}

/// Puts `value` in decimal (or hexadecimal), with a minus sign when `negative`.
static void put_number(struct cursor *cursor, unsigned long long value, int negative, unsigned base) {
    char digits[24];
    size_t at = sizeof(digits);
    do {
        digits[--at] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    if (negative) digits[--at] = '-';
    while (at < sizeof(digits)) put(cursor, digits[at++]);
}

/// Formats a format `is_simple` accepted as printf would, without printf: libbpf's C dumper calls back
/// once per fragment of a declaration (hundreds of thousands of times for a kernel's BTF), mostly with a
/// few bytes of text and names, and printf's set-up per call costs more than the formatting itself.
static void format_simply(struct output_buffer *buffer, const char *format, va_list arguments) {
    struct cursor cursor = {buffer, buffer->data + buffer->length, buffer->data + sizeof(buffer->data)};
    for (const char *p = format; *p; p++) {
        if (*p != '%') {
            put(&cursor, *p);
            continue;
        }
        p++;
        if (*p == '%') {
            put(&cursor, '%');
            continue;
        }
        if (*p == 's') {
            // Names and prefixes: copied whole where they fit (the usual case), else byte by byte across a flush.
            const char *string = va_arg(arguments, const char *);
            size_t length = strlen(string);
            if (length <= (size_t)(cursor.end - cursor.at)) {
                memcpy(cursor.at, string, length);
                cursor.at += length;
            } else {
                for (; *string; string++) put(&cursor, *string);
            }
            continue;
        }
        if (*p == 'c') {
            put(&cursor, (char)va_arg(arguments, int));
            continue;
        }
        int longs = 0, shorts = 0, size = 0;  // size: 'z', 'j' or 't'
        for (; *p == 'h' || *p == 'l' || *p == 'z' || *p == 'j' || *p == 't'; p++) {
            if (*p == 'l') longs++;
            else if (*p == 'h') shorts++;
            else size = *p;
        }
        if (*p == 'd' || *p == 'i') {
            long long value = size == 'z' ? (long long)va_arg(arguments, ssize_t)
                : size == 'j' ? (long long)va_arg(arguments, intmax_t)
                : size == 't' ? (long long)va_arg(arguments, ptrdiff_t)
                : longs >= 2 ? va_arg(arguments, long long)
                : longs == 1 ? (long long)va_arg(arguments, long) : (long long)va_arg(arguments, int);
            if (shorts) value = shorts == 1 ? (short)value : (signed char)value;
            put_number(&cursor, value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value,
                       value < 0, 10);
        } else {
            unsigned long long value = size == 'z' ? (unsigned long long)va_arg(arguments, size_t)
                : size == 'j' ? (unsigned long long)va_arg(arguments, uintmax_t)
                : size == 't' ? (unsigned long long)va_arg(arguments, ptrdiff_t)
                : longs >= 2 ? va_arg(arguments, unsigned long long)
                : longs == 1 ? (unsigned long long)va_arg(arguments, unsigned long)
                : (unsigned long long)va_arg(arguments, unsigned int);
            if (shorts) value = shorts == 1 ? (unsigned short)value : (unsigned char)value;
            put_number(&cursor, value, 0, *p == 'x' ? 16 : 10);
        }
    }
    buffer->length = (size_t)(cursor.at - buffer->data);
}

static void collect(void *context, const char *format, va_list arguments) {
    struct output_buffer *buffer = context;
    if (buffer->failed) return;
    if (rewrite_for_bpftool_7_1(buffer, format)) return;
    if (is_simple(format)) {
        format_simply(buffer, format, arguments);
        return;
    }
    size_t room = sizeof(buffer->data) - buffer->length;
    va_list copy;
    va_copy(copy, arguments);
    int needed = vsnprintf(buffer->data + buffer->length, room, format, copy);
    va_end(copy);
    if (needed < 0) {
        buffer->failed = -EINVAL;
        return;
    }
    if ((size_t)needed < room) {
        buffer->length += (size_t)needed;  // written in place
        return;
    }
    char *text = malloc((size_t)needed + 1);
    if (!text) {
        buffer->failed = -ENOMEM;
        return;
    }
    vsnprintf(text, (size_t)needed + 1, format, arguments);
    append(buffer, text, (size_t)needed);
    free(text);
}

struct bpfrun_btf_c_dump *bpfrun_btf_c_dump_new(const void *data, size_t size, int pointer_size, int *error) {
    *error = 0;
    if (size > 0xffffffffu) {
        *error = -E2BIG;
        return NULL;
    }
    struct bpfrun_btf_c_dump *dump = calloc(1, sizeof(*dump));
    if (!dump) {
        *error = -ENOMEM;
        return NULL;
    }
    dump->btf = btf__new(data, (unsigned int)size);
    long failure = libbpf_get_error(dump->btf);
    if (failure) {
        *error = (int)(failure < 0 ? failure : -failure);
        free(dump);
        return NULL;
    }
    if (pointer_size) btf__set_pointer_size(dump->btf, (size_t)pointer_size);
    dump->size = size;
    return dump;
}

struct dump_job {
    struct btf *btf;
    struct output_buffer *buffer;
    int result;
};

static void *run_dump_job(void *argument) {
    struct dump_job *job = argument;
    struct btf_dump *dumper = btf_dump__new(job->btf, collect, job->buffer, NULL);
    long error = libbpf_get_error(dumper);
    if (error) {
        job->result = (int)(error < 0 ? error : -error);
        return NULL;
    }
    unsigned int count = btf__type_cnt(job->btf);
    int result = 0;
    for (unsigned int id = 1; id < count && result == 0 && !job->buffer->failed; id++) {
        result = btf_dump__dump_type(dumper, id);
    }
    btf_dump__free(dumper);
    job->result = result != 0 ? result : job->buffer->failed;
    return NULL;
}

int bpfrun_btf_c_dump_run(struct bpfrun_btf_c_dump *dump, bpfrun_btf_dump_write write, void *context) {
    struct output_buffer *buffer = malloc(sizeof(*buffer));
    if (!buffer) return -ENOMEM;
    buffer->length = 0;
    buffer->flushed = 0;
    buffer->failed = 0;
    buffer->after_open_parenthesis = 0;
    buffer->write = write;
    buffer->context = context;
    // libbpf's dumper recurses once per type along reference chains (at most once per type when
    // no unguarded cycle exists), so it runs on a thread whose stack grows with the type count:
    // 1 MiB plus 1 KiB per possible 12-byte record, at most 1 GiB (reserved, committed lazily).
    size_t stack = ((size_t)1 << 20) + dump->size / 12 * 1024;
    if (stack > ((size_t)1 << 30)) stack = (size_t)1 << 30;
    struct dump_job job = {dump->btf, buffer, 0};
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) {
        free(buffer);
        return -ENOMEM;
    }
    int error = pthread_attr_setstacksize(&attributes, stack);
    pthread_t thread;
    if (error == 0) error = pthread_create(&thread, &attributes, run_dump_job, &job);
    pthread_attr_destroy(&attributes);
    if (error != 0) {
        free(buffer);
        return -error;
    }
    pthread_join(thread, NULL);
    if (job.result == 0) flush(buffer);
    int result = job.result;
    free(buffer);
    return result;
}

void bpfrun_btf_c_dump_free(struct bpfrun_btf_c_dump *dump) {
    if (!dump) return;
    btf__free(dump->btf);
    free(dump);
}
