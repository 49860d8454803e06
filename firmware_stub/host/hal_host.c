/* hal_host.c -- the HAL on a POSIX host: monotonic clock, /dev/urandom, the store as
 * two bank files (written whole, fsync'd, then trusted by sequence and CRC) and the
 * device record as DIR/device.bin (mode 0600), the phase outputs as a trace file,
 * diagnostics on stderr.
 *
 * Test hook: STIMFW_STORE_ABORT_AT=N makes the N-th bank write stop halfway and
 * abort() -- a power loss in the middle of a write. */
#define _POSIX_C_SOURCE 200809L
#include "hal_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static const char *state_dir;
static FILE *trace;
static uint64_t trace_t0;
#define AREAS 3u /* bank 0, bank 1, the device record */
static uint8_t mem_bank[AREAS][FW_STORE_BANK_SIZE];
static size_t mem_len[AREAS];
static long abort_at = -1;
static long writes;
static host_write_fn writer;

void hal_host_setup(const char *dir, FILE *trace_file, host_write_fn write_fn)
{
    const char *hook = getenv("STIMFW_STORE_ABORT_AT");
    state_dir = dir;
    trace = trace_file;
    writer = write_fn;
    if (hook && *hook) {
        abort_at = strtol(hook, 0, 10);
    }
}

uint64_t hal_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void hal_io_write(const char *data, size_t len)
{
    if (writer) {
        writer(data, len);
    }
}

uint32_t hal_random32(void)
{
    static int fd = -2;
    uint32_t v = 0;
    if (fd == -2) {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        v = (uint32_t)hal_now_us() * 2654435761u ^ (uint32_t)getpid();
    }
    return v;
}

static void bank_path(char *out, size_t cap, unsigned bank)
{
    if (bank == FW_STORE_DEVICE_AREA) {
        snprintf(out, cap, "%s/device.bin", state_dir);
    } else {
        snprintf(out, cap, "%s/bank%u.bin", state_dir, bank);
    }
}

int hal_store_read(unsigned bank, void *buf, size_t len)
{
    char path[4096];
    int fd;
    size_t got = 0;
    if (bank >= AREAS) {
        return -1;
    }
    if (!state_dir) {
        if (mem_len[bank] == 0) {
            return -1;
        }
        got = mem_len[bank] < len ? mem_len[bank] : len;
        memcpy(buf, mem_bank[bank], got);
        return (int)got;
    }
    bank_path(path, sizeof path, bank);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    return (int)got;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int hal_store_write(unsigned bank, const void *buf, size_t len)
{
    char path[4096];
    int fd, rc;
    int crash;
    if (bank >= AREAS || len > FW_STORE_BANK_SIZE) {
        return -1;
    }
    if (bank != FW_STORE_DEVICE_AREA) {
        writes++; /* the test hook counts bank images only */
    }
    crash = bank != FW_STORE_DEVICE_AREA && abort_at > 0 && writes == abort_at;
    if (!state_dir) {
        memcpy(mem_bank[bank], buf, crash ? len / 2 : len);
        mem_len[bank] = crash ? len / 2 : len;
        if (crash) {
            abort();
        }
        return 0;
    }
    bank_path(path, sizeof path, bank);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, bank == FW_STORE_DEVICE_AREA ? 0600 : 0644);
    if (fd < 0) {
        return -1;
    }
    if (crash) {
        /* power lost halfway: half a bank reaches the disk, then nothing */
        (void)write_all(fd, (const char *)buf, len / 2);
        (void)fsync(fd);
        abort();
    }
    rc = write_all(fd, (const char *)buf, len);
    if (rc == 0) {
        rc = fsync(fd);
    }
    if (close(fd) != 0) {
        rc = -1;
    }
    return rc == 0 ? 0 : -1;
}

void hal_phase_begin(uint64_t t0_us)
{
    trace_t0 = t0_us;
    if (trace) {
        fprintf(trace, "# BEGIN %llu\n", (unsigned long long)t0_us);
    }
}

void hal_phase_edge(uint64_t t0_us, const fw_edge_t *e)
{
    (void)t0_us;
    if (trace) {
        fprintf(trace, "%llu %s %u %lu\n", (unsigned long long)e->t_us, e->out == FW_OUT_CATH ? "CATH" : "ANOD",
                (unsigned)e->level, (unsigned long)e->amp_ua);
    }
}

void hal_phase_off(uint64_t now_us)
{
    if (trace) {
        fprintf(trace, "# OFF %llu\n", (unsigned long long)(now_us - trace_t0));
        fflush(trace);
    }
}

void hal_diag(const char *text)
{
    fprintf(stderr, "stimfw-host: %s\n", text);
}
