/* soak_main.c -- stimfw-soak: feeds every stdin line to the device (built with
 * -fsanitize=address,undefined), with the fake clock jumping between lines, and
 * checks every byte the device sends: lines of at most 512 bytes plus " *XXXX\r\n"
 * with a valid CRC. Any violation or sanitizer report aborts with a non-zero status.
 * A line "@CLINICIAN" (not sent) gives the session the clinician role, so the
 * clinician verbs are exercised without computing login proofs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "device.h"
#include "verbs.h"
#include "hal_fake.h"

static unsigned long checked;

static void check_output(void)
{
    size_t i = 0;
    while (i < fake_out_len) {
        size_t start = i, len;
        unsigned crc;
        while (i < fake_out_len && fake_out[i] != '\n') {
            i++;
        }
        if (i >= fake_out_len) {
            fprintf(stderr, "soak: output line without LF\n");
            abort();
        }
        len = i - start;
        i++;
        /* TEXT " *XXXX" CR: the CRC covers TEXT, at most 512 bytes */
        if (len < 8 || fake_out[start + len - 1] != '\r' || len - 7 > 512 ||
            fake_out[start + len - 7] != ' ' || fake_out[start + len - 6] != '*' ||
            sscanf(fake_out + start + len - 5, "%4X", &crc) != 1 ||
            fw_crc16(0xFFFF, (const uint8_t *)fake_out + start, len - 7) != crc) {
            fprintf(stderr, "soak: malformed output line: %.*s\n", (int)len, fake_out + start);
            abort();
        }
        checked++;
    }
    fake_out_clear();
}

int main(int argc, char **argv)
{
    static char line[8192];
    fw_port_t port;
    unsigned long n = 0;
    uint32_t rnd = 2463534242u;
    (void)argv;
    memset(&port, 0, sizeof port);
    port.model = "STIMFW-SOAK";
    port.fw = "0";
    port.sn = "0";
    port.sim = 1;
    port.batt_persist_step = 1;
    fake_reset_all();
    fw_init(&fw_dev, &port, &fw_verbs);
    check_output();
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        if (strcmp(line, "@CLINICIAN\n") == 0) {
            fw_dev.role = FW_ROLE_CLINICIAN;
            continue;
        }
        if (strncmp(line, "@FAMILY ", 8) == 0) {
            /* power up as another family on the same store (its programs may not fit it) */
            port.family = (uint8_t)(strtoul(line + 8, 0, 10) % FW_FAMILY_COUNT);
            fw_init(&fw_dev, &port, &fw_verbs);
            check_output();
            continue;
        }
        fw_rx(&fw_dev, (const uint8_t *)line, len);
        if (len > 0 && line[len - 1] != '\n') {
            fw_rx(&fw_dev, (const uint8_t *)"\n", 1);
        }
        /* time moves: mostly milliseconds, sometimes seconds (lease, lockout, battery) */
        fake_now_us += (rnd % 64u == 0) ? (uint64_t)(rnd % 20000u) * 1000u : (uint64_t)(rnd % 3000u);
        fw_poll(&fw_dev, (rnd & 1u) ? 0 : 2000);
        check_output();
        n++;
    }
    printf("soak: %lu lines, %lu output lines checked\n", n, checked);
    return argc > 1 ? 0 : 0;
}
