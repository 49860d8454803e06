/* main_host.c -- stimfw-host: the firmware core served on a pseudo-terminal or a TCP
 * port, like `stimsim emulate`, so the desktop app and the conformance suite can talk
 * to the C generator exactly as to a board.
 *
 *   stimfw-host --pty | --tcp PORT [--state DIR] [--trace FILE] [--pin PIN]
 *               [--chem liion|primary] [--sn SERIAL] [--idle-timeout S]
 *
 * The first stdout line is `PORT /dev/pts/N` or `PORT socket://127.0.0.1:N`, flushed.
 * SIGINT / SIGTERM end it cleanly (trace flushed, sockets closed, exit status 0).
 * Every TCP client starts a fresh session (fw_link_reset: PATIENT, not strict, no TEST),
 * and one that sends nothing for --idle-timeout seconds (default 60) is disconnected. */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "codec.h"
#include "device.h"
#include "verbs.h"
#include "hal_host.h"
#include "params_gen.h"
#include "pin.h"

#define FW_VERSION "0.1.0"
#define OUTQ_SIZE 65536
#define POLL_MAX_MS 100
#define STIM_BATCH_MS 2 /* edges are handed to the trace in batches this far apart */

static volatile sig_atomic_t stop_requested;
static int out_fd = -1;        /* where replies go: the pty master or the TCP client */
static char outq[OUTQ_SIZE];
static size_t outq_len;
static int outq_dropped;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void flush_out(void)
{
    while (outq_len > 0 && out_fd >= 0) {
        ssize_t n = write(out_fd, outq, outq_len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* EAGAIN: poll for POLLOUT; other errors: the client is going away */
        }
        memmove(outq, outq + n, outq_len - (size_t)n);
        outq_len -= (size_t)n;
    }
}

static void host_write(const char *data, size_t len)
{
    if (out_fd < 0) {
        return; /* nobody connected: like a UART with no cable */
    }
    if (len > OUTQ_SIZE - outq_len) {
        if (!outq_dropped) {
            fprintf(stderr, "stimfw-host: the client does not read; output dropped\n");
        }
        outq_dropped = 1;
        return;
    }
    outq_dropped = 0;
    memcpy(outq + outq_len, data, len);
    outq_len += len;
    flush_out();
}

static int open_pty(char *name, size_t cap, int *slave_out)
{
    struct termios t;
    const char *path;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    int s;
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || (path = ptsname(m)) == 0) {
        perror("stimfw-host: pty");
        return -1;
    }
    snprintf(name, cap, "%s", path);
    /* Our own slave descriptor keeps the pty alive between clients, and raw mode is
     * set on it before a single byte is written: no echo, no CR/LF translation. */
    s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0 || tcgetattr(s, &t) != 0) {
        perror("stimfw-host: pty slave");
        return -1;
    }
    cfmakeraw(&t);
    if (tcsetattr(s, TCSANOW, &t) != 0) {
        perror("stimfw-host: raw mode");
        return -1;
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    *slave_out = s;
    return m;
}

static int open_listener(int port, int *bound)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("stimfw-host: socket");
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("stimfw-host: listen");
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static void refuse_busy(int listener)
{
    static const char text[] = "ERR STATE REASON=BUSY";
    char line[64];
    fw_buf_t b;
    int c = accept(listener, 0, 0);
    if (c < 0) {
        return;
    }
    fw_buf_init(&b, line, sizeof line);
    fw_buf_str(&b, text);
    if (fw_line_seal(&b)) {
        ssize_t n = write(c, b.buf, b.len);
        (void)n;
    }
    close(c);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: stimfw-host --pty | --tcp PORT [--state DIR] [--trace FILE] [--pin PIN]\n"
               "                   [--family F] [--chem liion|primary|pack] [--sn SERIAL] [--idle-timeout S]\n");
}

/* --family F: one of the generated families, spelt as HELLO reports it. */
static int parse_family(const char *text, uint8_t *family)
{
    uint8_t f;
    for (f = 0; f < FW_FAMILY_COUNT; f++) {
        if (strcmp(text, fw_family_wire[f]) == 0) {
            *family = f;
            return 1;
        }
    }
    fprintf(stderr, "stimfw-host: --family %s: not a device family (", text);
    for (f = 0; f < FW_FAMILY_COUNT; f++) {
        fprintf(stderr, "%s%s", f ? ", " : "", fw_family_wire[f]);
    }
    fprintf(stderr, ")\n");
    return 0;
}

/* --chem C: one of the family's chemistries (lower case of BATT CHEM=). */
static int parse_chem(const char *text, fw_port_t *port)
{
    const fw_family_t *fam = fw_family(port->family);
    uint8_t i, j;
    for (i = 0; i < fam->nchems; i++) {
        const char *name = fw_batt_chem_name(fam->chems[i]);
        for (j = 0; name[j] && tolower((unsigned char)name[j]) == text[j]; j++) {
        }
        if (!name[j] && !text[j]) {
            port->chem = fam->chems[i];
            return 1;
        }
    }
    fprintf(stderr, "stimfw-host: --chem %s: the %s takes ", text, fam->wire);
    for (i = 0; i < fam->nchems; i++) {
        const char *name = fw_batt_chem_name(fam->chems[i]);
        fprintf(stderr, "%s", i == 0 ? "" : (i + 1 == fam->nchems ? " or " : ", "));
        for (j = 0; name[j]; j++) {
            fputc(tolower((unsigned char)name[j]), stderr);
        }
    }
    fprintf(stderr, "\n");
    return 0;
}

/* A client leaves (or is sent away): its session goes with it. */
static void drop_client(int *client, const char *why)
{
    if (why) {
        fprintf(stderr, "stimfw-host: %s: connection closed\n", why);
    }
    close(*client);
    *client = -1;
    out_fd = -1;
    outq_len = 0;
    fw_link_reset(&fw_dev);
}

int main(int argc, char **argv)
{
    int use_pty = 0, tcp_port = -1, i, listener = -1, master = -1, slave = -1, client = -1, bound = 0;
    const char *state = 0, *trace_path = 0, *pin = 0, *sn = "HOST-0001", *chem_arg = 0;
    double idle_s = FW_IDLE_TIMEOUT_S_DEFAULT;
    uint64_t idle_us, last_rx_us = 0;
    char idle_why[96];
    FILE *trace = 0;
    fw_port_t port;
    char name[256];
    struct sigaction sa;

    memset(&port, 0, sizeof port);
    port.chem = FW_CHEM_FAMILY;
    port.family = STIMFW_FAMILY;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : 0;
        if (strcmp(a, "--pty") == 0) {
            use_pty = 1;
        } else if (strcmp(a, "--tcp") == 0 && next) {
            char *end;
            long v = strtol(next, &end, 10);
            if (*end || v < 0 || v > 65535) {
                fprintf(stderr, "stimfw-host: --tcp %s: not a port number 0..65535\n", next);
                return 2;
            }
            tcp_port = (int)v;
            i++;
        } else if (strcmp(a, "--idle-timeout") == 0 && next) {
            char *end;
            idle_s = strtod(next, &end);
            if (end == next || *end || !(idle_s > 0.0 && idle_s <= 86400.0)) {
                fprintf(stderr, "stimfw-host: --idle-timeout %s: seconds, more than 0 and at most 86400\n", next);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--state") == 0 && next) {
            state = next;
            i++;
        } else if (strcmp(a, "--trace") == 0 && next) {
            trace_path = next;
            i++;
        } else if (strcmp(a, "--pin") == 0 && next) {
            pin = next;
            i++;
        } else if (strcmp(a, "--sn") == 0 && next) {
            sn = next;
            i++;
        } else if (strcmp(a, "--chem") == 0 && next) {
            chem_arg = next;
            i++;
        } else if (strcmp(a, "--family") == 0 && next) {
            if (!parse_family(next, &port.family)) {
                return 2;
            }
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "stimfw-host: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (chem_arg && !parse_chem(chem_arg, &port)) {
        return 2;
    }
    if (use_pty == (tcp_port >= 0)) {
        fprintf(stderr, "stimfw-host: give exactly one of --pty and --tcp PORT\n");
        usage(stderr);
        return 2;
    }
    if (pin && !fw_pin_valid(pin, strlen(pin))) {
        fprintf(stderr, "stimfw-host: --pin %s: the PIN is 4 to 8 digits\n", pin);
        return 2;
    }
    if (state && mkdir(state, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "stimfw-host: --state %s: %s\n", state, strerror(errno));
        return 2;
    }
    if (trace_path) {
        trace = fopen(trace_path, "w");
        if (!trace) {
            fprintf(stderr, "stimfw-host: --trace %s: %s\n", trace_path, strerror(errno));
            return 2;
        }
    }

    idle_us = (uint64_t)(idle_s * 1e6);
    snprintf(idle_why, sizeof idle_why, "client idle for %g s", idle_s);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    signal(SIGPIPE, SIG_IGN);

    if (use_pty) {
        master = open_pty(name, sizeof name, &slave);
        if (master < 0) {
            return 1;
        }
        out_fd = master;
    } else {
        listener = open_listener(tcp_port, &bound);
        if (listener < 0) {
            return 1;
        }
        snprintf(name, sizeof name, "socket://127.0.0.1:%d", bound);
    }

    hal_host_setup(state, trace, host_write);
    port.model = "STIMFW-HOST";
    port.fw = FW_VERSION;
    port.sn = sn;
    port.sim = 1;
    port.batt_persist_step = 1;
    fw_init(&fw_dev, &port, &fw_verbs);
    if (pin) {
        fw_set_pin(&fw_dev, pin);
    }
    printf("PORT %s\n", name);
    fflush(stdout);
    fprintf(stderr, "stimfw-host: serving on %s; login PIN %s\n", name,
            pin ? "from --pin" : "as stored (0000 on a new device; --pin sets another)");

    while (!stop_requested) {
        struct pollfd fds[3];
        nfds_t n = 0;
        int in_idx = -1, lis_idx = -1, timeout;
        uint64_t now, wake;
        fw_poll(&fw_dev, 0);
        now = hal_now_us();
        wake = fw_next_wake_us(&fw_dev, 0);
        timeout = wake > now ? (int)((wake - now + 999u) / 1000u) : 0;
        if (timeout > POLL_MAX_MS) {
            timeout = POLL_MAX_MS;
        }
        if (fw_dev.stim_on && timeout < STIM_BATCH_MS) {
            timeout = STIM_BATCH_MS;
        }
        if (client >= 0) {
            uint64_t idle_at = last_rx_us + idle_us;
            int until_idle = idle_at > now ? (int)((idle_at - now + 999u) / 1000u) : 0;
            if (until_idle < timeout) {
                timeout = until_idle;
            }
        }
        if (master >= 0) {
            fds[n].fd = master;
            fds[n].events = (short)(POLLIN | (outq_len ? POLLOUT : 0));
            in_idx = (int)n++;
        }
        if (client >= 0) {
            fds[n].fd = client;
            fds[n].events = (short)(POLLIN | (outq_len ? POLLOUT : 0));
            in_idx = (int)n++;
        }
        if (listener >= 0) {
            fds[n].fd = listener;
            fds[n].events = POLLIN;
            lis_idx = (int)n++;
        }
        if (poll(fds, n, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("stimfw-host: poll");
            break;
        }
        if (lis_idx >= 0 && (fds[lis_idx].revents & POLLIN)) {
            if (client >= 0) {
                refuse_busy(listener);
            } else {
                client = accept(listener, 0, 0);
                if (client >= 0) {
                    int one = 1;
                    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    out_fd = client;
                    outq_len = 0;
                    last_rx_us = hal_now_us();
                    fw_link_reset(&fw_dev); /* whatever the last client was allowed, this one starts afresh */
                }
            }
        }
        if (in_idx >= 0 && fds[in_idx].revents) {
            if (fds[in_idx].revents & POLLOUT) {
                flush_out();
            }
            if (fds[in_idx].revents & (POLLIN | POLLHUP | POLLERR)) {
                uint8_t buf[4096];
                ssize_t got = read(fds[in_idx].fd, buf, sizeof buf);
                if (got > 0) {
                    last_rx_us = hal_now_us();
                    fw_rx(&fw_dev, buf, (size_t)got);
                } else if (client >= 0 && fds[in_idx].fd == client &&
                           (got == 0 || (errno != EAGAIN && errno != EINTR))) {
                    drop_client(&client, 0);
                }
            }
        }
        if (client >= 0 && hal_now_us() - last_rx_us >= idle_us) {
            drop_client(&client, idle_why);
        }
    }
    if (trace) {
        fclose(trace);
    }
    if (client >= 0) {
        close(client);
    }
    if (listener >= 0) {
        close(listener);
    }
    if (slave >= 0) {
        close(slave);
    }
    if (master >= 0) {
        close(master);
    }
    return 0;
}
