/* edges_main.c -- stimfw-edges: the scheduler's edges for one program over a span of
 * simulated time, through the real device (PROG, STIM ON, fw_poll) on a fake clock.
 * Lets a test compare long cycling / ramp schedules without waiting in real time.
 *
 *   stimfw-edges MS 'MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100 ...'
 *
 * Prints the same lines as stimfw-host --trace: "t_us CATH|ANOD level amp_ua". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "verbs.h"
#include "hal_fake.h"

static void print_edge(uint64_t t0_us, const fw_edge_t *e)
{
    (void)t0_us;
    printf("%llu %s %u %lu\n", (unsigned long long)e->t_us, e->out == FW_OUT_CATH ? "CATH" : "ANOD",
           (unsigned)e->level, (unsigned long)e->amp_ua);
}

static void send(const char *text)
{
    fake_out_clear();
    fw_rx(&fw_dev, (const uint8_t *)text, strlen(text));
    fw_rx(&fw_dev, (const uint8_t *)"\n", 1);
}

int main(int argc, char **argv)
{
    fw_port_t port;
    char line[400];
    uint64_t end, t0;
    if (argc != 3) {
        fprintf(stderr, "usage: stimfw-edges MS 'PROG arguments without SLOT'\n");
        return 2;
    }
    memset(&port, 0, sizeof port);
    port.model = "STIMFW-EDGES";
    port.fw = "0";
    port.sn = "0";
    port.sim = 1;
    fake_reset_all();
    fw_init(&fw_dev, &port, &fw_verbs);
    fw_dev.role = FW_ROLE_CLINICIAN; /* the login itself is tested elsewhere */
    snprintf(line, sizeof line, "PROG SLOT=1 ACK=CHARGE %s", argv[2]);
    send(line);
    if (strncmp(fake_out, "OK", 2) != 0) {
        fprintf(stderr, "stimfw-edges: %s", fake_out);
        return 1;
    }
    send("STIM ON");
    if (strncmp(fake_out, "OK", 2) != 0) {
        fprintf(stderr, "stimfw-edges: %s", fake_out);
        return 1;
    }
    fake_edge_cb = print_edge;
    t0 = fw_dev.t0_us;
    end = t0 + (uint64_t)strtoull(argv[1], 0, 10) * 1000u;
    while (fake_now_us < end) {
        fake_now_us += 50000; /* 50 ms steps; fw_poll hands over every edge due */
        if (fake_now_us > end) {
            fake_now_us = end;
        }
        fw_poll(&fw_dev, 0);
    }
    return 0;
}
