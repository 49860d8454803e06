/* test_core.c -- unit tests of the portable core on the host (make test).
 * Published vectors: CRC-16/CCITT-FALSE check, SHA-256 (FIPS 180-2 appendix B),
 * HMAC-SHA256 (RFC 4231 test cases 1-7); then the parser, the line assembler,
 * electrodes, validation, the scheduler, the battery, the A/B store and a few
 * requests end to end. Ends with "N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "crc.h"
#include "device.h"
#include "verbs.h"
#include "fwmath.h"
#include "hal_fake.h"
#include "loop.h"
#include "pin.h"
#include "sha256.h"

static int passed, failed;

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (cond) {                                                           \
            passed++;                                                         \
        } else {                                                              \
            failed++;                                                         \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, what);             \
        }                                                                     \
    } while (0)

static void hex(const uint8_t *b, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", b[i]);
    }
}

static void test_crc(void)
{
    CHECK(fw_crc16(0xFFFF, (const uint8_t *)"123456789", 9) == 0x29B1, "CRC-16/CCITT-FALSE check 29B1");
    CHECK(fw_crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u, "CRC-32 check CBF43926");
    /* the protocol's own example line */
    CHECK(fw_crc16(0xFFFF, (const uint8_t *)"", 0) == 0xFFFF, "CRC of nothing is the init value");
}

static void test_sha256(void)
{
    static const char *const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static const char *const m448 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    static const char *const million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    uint8_t d[32];
    char h[65];
    fw_sha256_t ctx;
    uint8_t chunk[1000];
    int i;
    fw_sha256((const uint8_t *)"abc", 3, d);
    hex(d, 32, h);
    CHECK(strcmp(h, abc) == 0, "SHA-256('abc')");
    fw_sha256((const uint8_t *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    hex(d, 32, h);
    CHECK(strcmp(h, m448) == 0, "SHA-256(448-bit message)");
    memset(chunk, 'a', sizeof chunk);
    fw_sha256_init(&ctx);
    for (i = 0; i < 1000; i++) {
        fw_sha256_update(&ctx, chunk, sizeof chunk);
    }
    fw_sha256_final(&ctx, d);
    hex(d, 32, h);
    CHECK(strcmp(h, million) == 0, "SHA-256(one million 'a')");
}

static void test_hmac(void)
{
    struct {
        uint8_t key[131];
        size_t key_len;
        uint8_t data[160];
        size_t data_len;
        const char *mac;
        size_t mac_hex; /* compared prefix (test case 5 is truncated to 128 bits) */
    } tc[7];
    uint8_t out[32];
    char h[65];
    int i;
    memset(tc, 0, sizeof tc);
    memset(tc[0].key, 0x0b, 20), tc[0].key_len = 20;
    memcpy(tc[0].data, "Hi There", 8), tc[0].data_len = 8;
    tc[0].mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    memcpy(tc[1].key, "Jefe", 4), tc[1].key_len = 4;
    memcpy(tc[1].data, "what do ya want for nothing?", 28), tc[1].data_len = 28;
    tc[1].mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    memset(tc[2].key, 0xaa, 20), tc[2].key_len = 20;
    memset(tc[2].data, 0xdd, 50), tc[2].data_len = 50;
    tc[2].mac = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
    for (i = 0; i < 25; i++) {
        tc[3].key[i] = (uint8_t)(i + 1);
    }
    tc[3].key_len = 25;
    memset(tc[3].data, 0xcd, 50), tc[3].data_len = 50;
    tc[3].mac = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
    memset(tc[4].key, 0x0c, 20), tc[4].key_len = 20;
    memcpy(tc[4].data, "Test With Truncation", 20), tc[4].data_len = 20;
    tc[4].mac = "a3b6167473100ee06e0c796c2955552b";
    memset(tc[5].key, 0xaa, 131), tc[5].key_len = 131;
    memcpy(tc[5].data, "Test Using Larger Than Block-Size Key - Hash Key First", 54), tc[5].data_len = 54;
    tc[5].mac = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
    memset(tc[6].key, 0xaa, 131), tc[6].key_len = 131;
    {
        static const char m7[] = "This is a test using a larger than block-size key and a larger than block-size data. "
                                 "The key needs to be hashed before being used by the HMAC algorithm.";
        memcpy(tc[6].data, m7, sizeof m7 - 1);
        tc[6].data_len = sizeof m7 - 1;
    }
    tc[6].mac = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
    for (i = 0; i < 7; i++) {
        char what[64];
        fw_hmac_sha256(tc[i].key, tc[i].key_len, tc[i].data, tc[i].data_len, out);
        hex(out, 32, h);
        sprintf(what, "HMAC-SHA256 RFC 4231 test case %d", i + 1);
        CHECK(strncmp(h, tc[i].mac, strlen(tc[i].mac)) == 0, what);
    }
}

static int parse(const char *line, fw_request_t *r) { return fw_parse_request(line, strlen(line), r); }

static void test_parser(void)
{
    static fw_request_t r;
    char line[400];
    uint16_t crc;
    CHECK(parse("HELLO", &r) == FW_PARSE_OK && r.seq == -1 && !r.has_crc && fw_verb_is(&r, "HELLO"), "bare verb");
    CHECK(parse("  status  ", &r) == FW_PARSE_OK && fw_verb_is(&r, "STATUS"), "lower case, spaces");
    CHECK(parse("#12 PROG SLOT=3 mode=tonic", &r) == FW_PARSE_OK && r.seq == 12 && r.nargs == 2 &&
              fw_arg_key_is(&r, &r.args[1], "MODE") && fw_arg_value_is(&r, &r.args[1], "TONIC"),
          "SEQ and KEY=VALUE");
    crc = fw_crc16(0xFFFF, (const uint8_t *)"#7 STATUS", 9);
    sprintf(line, "#7 STATUS *%04X", crc);
    CHECK(parse(line, &r) == FW_PARSE_OK && r.has_crc && r.seq == 7, "good CRC");
    sprintf(line, "#7 STATUS *%04x", crc);
    CHECK(parse(line, &r) == FW_PARSE_OK, "CRC in lower case");
    sprintf(line, "#7 STATUS *%04X", (unsigned)(crc ^ 1u));
    CHECK(parse(line, &r) == FW_PARSE_BAD_CRC && r.seq == 7, "bad CRC keeps the SEQ");
    CHECK(parse("#0 HELLO", &r) == FW_PARSE_BAD_SYNTAX && r.seq == -1, "SEQ 0");
    CHECK(parse("#65536 HELLO", &r) == FW_PARSE_BAD_SYNTAX, "SEQ too big");
    CHECK(parse("#65535 HELLO", &r) == FW_PARSE_OK && r.seq == 65535, "SEQ 65535");
    CHECK(parse("#5", &r) == FW_PARSE_BAD_SYNTAX && r.seq == 5, "SEQ without verb");
    CHECK(parse("#5 HEL\x01LO", &r) == FW_PARSE_BAD_SYNTAX && r.seq == 5, "control byte, SEQ echoed");
    CHECK(parse("HELLO X=", &r) == FW_PARSE_BAD_SYNTAX, "empty value");
    CHECK(parse("HELLO =1", &r) == FW_PARSE_BAD_SYNTAX, "empty key");
    CHECK(parse("HELLO A=b=c", &r) == FW_PARSE_BAD_SYNTAX, "'=' in value");
    CHECK(parse("HELLO STRICT=1 *", &r) == FW_PARSE_BAD_SYNTAX, "dangling star");
    CHECK(parse("VERYLONGVERBNAME1 X", &r) == FW_PARSE_BAD_SYNTAX, "17-character verb");
    memset(line, 'A', 70);
    memcpy(line, "NAME=", 5);
    line[70] = '\0';
    {
        char req[420];
        snprintf(req, sizeof req, "PROG %s", line);
        CHECK(parse(req, &r) == FW_PARSE_BAD_SYNTAX, "65-character value");
    }
    CHECK(fw_is_stop_line("#3 stop *0000", 13), "STOP with a bad CRC is still STOP");
    CHECK(fw_is_stop_line("STOP", 4) && !fw_is_stop_line("STOPX", 5) && !fw_is_stop_line("", 0), "STOP only");
}

static void test_lines(void)
{
    fw_linebuf_t lb;
    int i, st = 0;
    fw_line_reset(&lb);
    for (i = 0; i < 320; i++) {
        st = fw_line_feed(&lb, 'A');
    }
    fw_line_feed(&lb, '\r');
    st = fw_line_feed(&lb, '\n');
    CHECK(st == FW_LINE_READY && lb.len == 320, "320 bytes + CR LF is a line");
    fw_line_reset(&lb);
    for (i = 0; i < 321; i++) {
        fw_line_feed(&lb, 'A');
    }
    CHECK(fw_line_feed(&lb, '\n') == FW_LINE_TOO_LONG, "321 bytes is TOO_LONG");
    for (i = 0; i < 5000; i++) {
        fw_line_feed(&lb, 'B');
    }
    CHECK(fw_line_feed(&lb, '\n') == FW_LINE_TOO_LONG, "a very long line is one TOO_LONG");
    fw_line_feed(&lb, 'O');
    fw_line_feed(&lb, 'K');
    CHECK(fw_line_feed(&lb, '\n') == FW_LINE_READY && lb.len == 2, "the next line is whole");
    CHECK(fw_line_is_blank("   ", 3) && !fw_line_is_blank(" \t", 2) && !fw_line_is_blank(" x", 2), "blank lines");
}

static void test_electrodes(void)
{
    fw_pair_t p[FW_MAX_PAIRS];
    uint8_t n = 0;
    char out[128];
    fw_buf_t b;
    const char *e = "case:+100,4:-100";
    CHECK(fw_elec_parse(e, strlen(e), p, &n) == 1 && n == 2 && p[0].contact == 4 && p[1].contact == FW_CASE_CONTACT,
          "parse and sort");
    fw_buf_init(&b, out, sizeof out);
    fw_elec_format(&b, p, n);
    CHECK(strcmp(out, "4:-100,CASE:+100") == 0, "format");
    CHECK(fw_elec_parse("4:-100,4:+100", 13, p, &n) == 0, "repeated contact");
    CHECK(fw_elec_parse("17:-100", 7, p, &n) == -1, "contact 17 is the engine's BAD_ARG");
    CHECK(fw_elec_parse("04:-100", 7, p, &n) == -1, "leading zero contact");
    CHECK(fw_elec_parse("4:-1000,5:+100", 14, p, &n) == 0, "four-digit share");
    CHECK(fw_elec_parse("1:5,2:5,3:5,4:5,5:5,6:5,7:5,8:5,9:5,10:5,11:5,12:5,13:5", 55, p, &n) == 0,
          "canonical text over 64 characters");
    CHECK(fw_elec_parse("4-100", 5, p, &n) == 0, "no colon");
    CHECK(fw_elec_parse("4:-100,", 7, p, &n) == 0, "empty item");
    CHECK(fw_elec_parse("4:-150,5:+50", 12, p, &n) == 1 && p[0].percent == -150, "out-of-range share parses");
}

#define SCS_R fw_family(FW_FAMILY_SCS_R)
#define DRG fw_family(FW_FAMILY_DRG)

static void tonic(fw_program_t *p, int32_t amp, int32_t pw, int32_t rate, const char *elec)
{
    memset(p, 0, sizeof *p);
    p->mode = FW_MODE_TONIC;
    p->recharge = FW_RECHARGE_ACTIVE;
    p->v[FW_P_AMP] = amp;
    p->v[FW_P_PW] = pw;
    p->v[FW_P_RATE] = rate;
    fw_elec_parse(elec, strlen(elec), p->pairs, &p->npairs);
}

static void test_validation(void)
{
    fw_program_t p;
    fw_problem_t pr;
    tonic(&p, 3000, 200, 50, "4:-100,5:+100");
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code == 0, "a typical tonic program is accepted");
    tonic(&p, 3000, 1500, 50, "4:-100,5:+100");
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " KEY=PW MIN=20 MAX=1000") == 0, "PW range");
    tonic(&p, 3000, 600, 1000, "4:-100,5:+100");
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " RULE=FIT KEY=PW MAX=495") == 0, "fit: 2*PW + IPG <= P - 10");
    tonic(&p, 15000, 200, 50, "4:-100,5:+100");
    fw_prog_check(SCS_R, &p, 262, 1, &pr);
    CHECK(pr.code && strcmp(pr.code, "UNSAFE") == 0 && strcmp(pr.args, " RULE=CONTACT_CURRENT CONTACT=4 MAX=12700") == 0,
          "per-contact interlock");
    tonic(&p, 15000, 200, 50, "4:-50,5:-50,CASE:+100");
    fw_prog_check(SCS_R, &p, 262, 1, &pr);
    CHECK(pr.code == 0, "split cathodes stay under the interlock; ACK given");
    tonic(&p, 8000, 1000, 50, "4:-100,5:+100");
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strncmp(pr.args, " RULE=CHARGE_DENSITY CONTACT=4 K=", 32) == 0, "charge density needs ACK");
    fw_prog_check(SCS_R, &p, 262, 1, &pr);
    CHECK(pr.code == 0, "ACK=CHARGE acknowledges it");
    tonic(&p, 3000, 200, 50, "4:-100,5:+50");
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " RULE=ELECTRODES KEY=ELEC") == 0, "anodes must sum to 100");
    tonic(&p, 3000, 200, 50, "4:-100,5:+100");
    p.v[FW_P_CYCLE_ON] = 2000;
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " RULE=CYCLE KEY=CYCLE_OFF_MS MIN=1000 MAX=5400000") == 0, "cycling pair");
    CHECK(fw_round_scaled(1.855, 2) == 186 || fw_round_scaled(1.855, 2) == 185, "rounding");
    {
        /* fw_log10 against the C library over the range the safety rules meet */
        double x, worst = 0.0;
        for (x = 1e-4; x < 1e4; x *= 1.0137) {
            double err = fabs(fw_log10(x) - log10(x));
            if (err > worst) {
                worst = err;
            }
        }
        CHECK(worst < 4e-16 * 4, "log10 within a few ulp of libm");
        CHECK(fw_log10(1000.0) == 3.0 || fabs(fw_log10(1000.0) - 3.0) < 1e-15, "log10(1000)");
    }
}

static fw_edge_t edges[64];
static int n_edges;

static void test_scheduler(void)
{
    fw_sched_t s;
    fw_sched_program_t p;
    const fw_edge_t *e;
    int i;
    memset(&p, 0, sizeof p);
    p.mode = FW_MODE_TONIC;
    p.recharge = FW_RECHARGE_ACTIVE;
    p.pw_us = 100;
    p.ipg_us = 20;
    p.rate_hz = 3;
    p.amp_ua = 2000;
    fw_sched_start(&s, &p);
    for (n_edges = 0; n_edges < 8 && (e = fw_sched_peek(&s)) != 0; n_edges++) {
        edges[n_edges] = *e;
        fw_sched_pop(&s);
    }
    CHECK(edges[0].t_us == 0 && edges[0].out == FW_OUT_CATH && edges[0].level == 1, "first pulse at t=0");
    CHECK(edges[1].t_us == 100 && edges[2].t_us == 120 && edges[3].t_us == 220 && edges[2].out == FW_OUT_ANOD,
          "cathodic, gap, anodic");
    CHECK(edges[4].t_us == 333333 && edges[4].level == 1, "pulse 1 at floor(1e6/3)");
    /* burst: 3 pulses at 500 Hz in bursts at 40 Hz, passive: the switch closes after the last */
    memset(&p, 0, sizeof p);
    p.mode = FW_MODE_BURST;
    p.recharge = FW_RECHARGE_PASSIVE;
    p.pw_us = 100;
    p.rate_hz = 40;
    p.intra_hz = 500;
    p.burst_n = 3;
    p.amp_ua = 1000;
    fw_sched_start(&s, &p);
    for (n_edges = 0; n_edges < 12 && (e = fw_sched_peek(&s)) != 0; n_edges++) {
        edges[n_edges] = *e;
        fw_sched_pop(&s);
    }
    CHECK(edges[0].t_us == 0 && edges[2].t_us == 2000 && edges[4].t_us == 4000, "intra-burst pulses every 2 ms");
    CHECK(edges[6].out == FW_OUT_ANOD && edges[6].level == 1 && edges[6].t_us == 4100, "switch closes after burst");
    CHECK(edges[7].out == FW_OUT_ANOD && edges[7].level == 0 && edges[7].t_us == 25000, "and opens at the next");
    /* cycling 1 s on / 1 s off at 2 Hz: pulses at 0, 0.5 s, then 2 s */
    memset(&p, 0, sizeof p);
    p.mode = FW_MODE_TONIC;
    p.recharge = FW_RECHARGE_ACTIVE;
    p.pw_us = 100;
    p.rate_hz = 2;
    p.cycle_on_ms = 1000;
    p.cycle_off_ms = 1000;
    p.ramp_ms = 1000;
    p.amp_ua = 1000;
    fw_sched_start(&s, &p);
    for (i = 0; i < 12 && (e = fw_sched_peek(&s)) != 0; i++) {
        edges[i] = *e;
        fw_sched_pop(&s);
    }
    CHECK(edges[0].t_us == 0 && edges[4].t_us == 500000 && edges[8].t_us == 2000000, "cycling drops off pulses");
    CHECK(edges[0].amp_ua == 0 && edges[4].amp_ua == 500 && edges[8].amp_ua == 0, "ramp from each on interval");
}

static void test_battery(void)
{
    fw_batt_t b;
    unsigned ev;
    fw_batt_init(&b, FW_CHEM_LIION, FW_LIION_CAPACITY_PJ, 0);
    CHECK(fw_batt_permille(&b) == 1000 && fw_batt_vbat_mv(&b) == 4100, "full Li-ion");
    ev = fw_batt_set_permille(&b, 40);
    CHECK(ev == (FW_BATT_EV_LOW | FW_BATT_EV_EMPTY) && fw_batt_blocks_stim(&b), "LOW and EMPTY crossed");
    CHECK(fw_batt_vbat_mv(&b) == 3000 + (3450 - 3000) * 40 / 50, "OCV interpolation");
    fw_batt_set_permille(&b, 500);
    CHECK(!fw_batt_blocks_stim(&b), "EMPTY clears when charged");
    /* 1 hour at quiescent draw: 0.04 mWh */
    fw_batt_set_draw(&b, FW_QUIESCENT_NW);
    {
        int64_t before = b.e_pj;
        int step;
        for (step = 0; step < 36; step++) {
            fw_batt_advance(&b, 100000000ull); /* 100 s at a time (longer stalls are capped) */
        }
        CHECK(before - b.e_pj == 144000000000LL, "0.04 mW for an hour is 144 mJ");
    }
    /* 3 mA, 200 us, 50 Hz, active: I_out = 3000 uA * 0.02 = 60 uA; rail 1 + 3*0.524 V */
    CHECK(fw_batt_stim_draw_nw(3000, 2572, 50u * 2u * 200u, 1, 1) == 40000 + 60000LL * 2572 / 800, "stim draw");
    fw_batt_init(&b, FW_CHEM_PRIMARY, FW_PRIMARY_CAPACITY_PJ, 0);
    ev = fw_batt_set_permille(&b, 15);
    CHECK(ev == (FW_BATT_EV_ERI | FW_BATT_EV_EOS), "ERI and EOS crossed");
    fw_batt_set_permille(&b, 900);
    CHECK(fw_batt_blocks_stim(&b) && b.level == FW_BATT_EOS, "EOS is final");
}

static fw_image_t img;

static void test_store(void)
{
    uint8_t bank = 1;
    fake_reset_all();
    CHECK(fw_store_load(&img, &bank) == FW_STORE_EMPTY, "empty store");
    fw_persist_defaults(&img.p, 0, 262);
    img.seq = 0;
    img.p.slots[0].used = 1;
    img.p.slots[0].prog.v[FW_P_RATE] = 50;
    img.p.slots[0].prog.v[FW_P_AMP] = 111;
    CHECK(fw_store_save(&img, &bank) == 0 && bank == 0, "first save to bank 0");
    img.p.slots[0].prog.v[FW_P_AMP] = 222;
    CHECK(fw_store_save(&img, &bank) == 0 && bank == 1, "second save to bank 1");
    fake_store_fail_at = fake_store_writes + 1;
    img.p.slots[0].prog.v[FW_P_AMP] = 333;
    CHECK(fw_store_save(&img, &bank) != 0 && bank == 1, "torn write fails");
    CHECK(fw_store_load(&img, &bank) == FW_STORE_OK && bank == 1 && img.p.slots[0].prog.v[FW_P_AMP] == 222,
          "torn write: the old state is whole");
    fake_store_fail_at = 0;
    img.p.slots[0].prog.v[FW_P_AMP] = 444;
    CHECK(fw_store_save(&img, &bank) == 0 && bank == 0, "next save overwrites the torn bank");
    CHECK(fw_store_load(&img, &bank) == FW_STORE_OK && img.p.slots[0].prog.v[FW_P_AMP] == 444, "new state");
    fake_store_poke(0, 100, 0x55);
    CHECK(fw_store_load(&img, &bank) == FW_STORE_OK && bank == 1 && img.p.slots[0].prog.v[FW_P_AMP] == 222,
          "a corrupt newest bank falls back to the other");
    fake_store_poke(1, 100, 0x55);
    CHECK(fw_store_load(&img, &bank) == FW_STORE_CORRUPT, "both corrupt");
}

static void send(const char *line)
{
    fake_out_clear();
    fw_rx(&fw_dev, (const uint8_t *)line, strlen(line));
    fw_rx(&fw_dev, (const uint8_t *)"\r\n", 2);
}

static void test_device(void)
{
    fw_port_t port;
    memset(&port, 0, sizeof port);
    port.model = "STIMFW-TEST";
    port.fw = "0.1.0";
    port.sn = "T1";
    port.sim = 1;
    fake_reset_all();
    fake_out_clear();
    fw_init(&fw_dev, &port, &fw_verbs);
    CHECK(strncmp(fake_out, "!BOOT BOOT=", 11) == 0, "!BOOT at power-up");
    send("HELLO");
    CHECK(strncmp(fake_out, "OK PROTO=1 MODEL=STIMFW-TEST FW=0.1.0 SN=T1 BOOT=", 49) == 0, "HELLO reply");
    CHECK(strstr(fake_out, " ROLE=PATIENT SLOTS=16 CONTACTS=16 FAMILY=SCS-R STRICT=0 NEXT=1 *") != 0, "HELLO fields");
    send("#5 STATUS");
    CHECK(strncmp(fake_out, "#5 OK STIM=OFF SLOT=1 AMP=0 BATT=1000 CHG=0 ROLE=PATIENT COMPLIANCE=OK MRI=0 TEST=0 *",
                  85) == 0,
          "STATUS");
    send("PROG SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100");
    CHECK(strncmp(fake_out, "ERR DENIED NEED=CLINICIAN *", 27) == 0, "PROG needs the clinician");
    fw_dev.role = FW_ROLE_CLINICIAN;
    send("PROG SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100 NAME=Low_back");
    CHECK(strncmp(fake_out, "OK SLOT=1 *", 11) == 0, "PROG");
    send("READ SLOT=1");
    CHECK(strncmp(fake_out,
                  "OK SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 IPG=0 RECHARGE=ACTIVE CYCLE_ON_MS=0 CYCLE_OFF_MS=0 "
                  "RAMP_MS=0 ELEC=4:-100,5:+100 AMP_MIN=0 AMP_MAX=20000 NAME=Low_back *",
                  162) == 0,
          "READ");
    send("PROG SLOT=2 MODE=TONIC AMP=3000 PW=200 RATE=50 BURST_N=3 ELEC=4:-100,5:+100");
    CHECK(strncmp(fake_out, "ERR BAD_ARG KEY=BURST_N *", 25) == 0, "a key the mode does not take");
    send("STOP *0000");
    CHECK(strncmp(fake_out, "OK STIM=OFF *", 13) == 0, "STOP with a bad CRC is executed");
    {
        char big[400];
        memset(big, 'A', sizeof big);
        big[399] = '\0';
        send(big);
        CHECK(strncmp(fake_out, "ERR TOO_LONG *", 14) == 0, "TOO_LONG");
    }
    send("FROB");
    CHECK(strncmp(fake_out, "ERR UNKNOWN_VERB *", 18) == 0, "unknown verb");
    send("STIM ON");
    CHECK(strncmp(fake_out, "OK STIM=ON *", 12) == 0, "STIM ON");
    send("STOP");
    CHECK(strstr(fake_out, "OK STIM=OFF *") == fake_out && strstr(fake_out, "!STIM STIM=OFF REASON=STOP *") != 0,
          "STOP reply then event");
}

static void boot_test_device(void)
{
    fw_port_t port;
    memset(&port, 0, sizeof port);
    port.model = "STIMFW-TEST";
    port.fw = "0.1.0";
    port.sn = "T1";
    port.sim = 1;
    fake_out_clear();
    fw_init(&fw_dev, &port, &fw_verbs);
}

/* A line with SEQ and CRC, as strict mode wants it. */
static void send_sealed(const char *text)
{
    char line[FW_LINE_MAX + 8];
    fw_buf_t b;
    fw_buf_init(&b, line, sizeof line);
    fw_buf_str(&b, text);
    fake_out_clear();
    if (fw_line_seal(&b)) {
        fw_rx(&fw_dev, (const uint8_t *)b.buf, b.len);
    }
}

/* LOGIN with the proof for pin (nonce from the device's reply); returns the reply. */
static const char *login_with(const char *pin)
{
    uint8_t key[FW_SHA256_LEN], mac[FW_SHA256_LEN];
    char nonce[17], line[128], h[65];
    const char *at;
    send("LOGIN");
    at = strstr(fake_out, "NONCE=");
    if (!at) {
        return fake_out;
    }
    memcpy(nonce, at + 6, 16);
    nonce[16] = '\0';
    fw_sha256((const uint8_t *)pin, strlen(pin), key);
    fw_hmac_sha256(key, sizeof key, (const uint8_t *)nonce, 16, mac);
    hex(mac, sizeof mac, h);
    snprintf(line, sizeof line, "LOGIN PROOF=%s", h);
    send(line);
    return fake_out;
}

/* A new link (a new TCP client) starts like HELLO: PATIENT, not strict, no TEST. */
static void test_link_reset(void)
{
    fake_reset_all();
    boot_test_device();
    send("HELLO");
    CHECK(strncmp(login_with("0000"), "OK ROLE=CLINICIAN *", 19) == 0, "login as clinician");
    send("HELLO STRICT=1"); /* strict after the login: HELLO makes a PATIENT again */
    CHECK(strstr(fake_out, " STRICT=1 ") != 0, "strict on");
    send("STATUS");
    CHECK(strncmp(fake_out, "ERR BAD_SYNTAX NEED=SEQ,CRC *", 29) == 0, "strict: SEQ and CRC needed");
    fw_dev.role = FW_ROLE_CLINICIAN;
    send_sealed("#3 PROG SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100");
    CHECK(strncmp(fake_out, "#3 OK SLOT=1 *", 14) == 0, "strict PROG");
    send_sealed("#4 TEST MODE=TONIC AMP=1000 PW=200 RATE=50 ELEC=4:-100,5:+100");
    CHECK(strncmp(fake_out, "#4 OK TEST=ON *", 15) == 0, "strict TEST");
    CHECK(fw_dev.test_on, "TEST running before the link reset");
    fw_rx(&fw_dev, (const uint8_t *)"PROG SLOT=2", 11); /* half a line from the old client */
    fw_link_reset(&fw_dev);
    fake_out_clear();
    send("STATUS");
    CHECK(strstr(fake_out, "OK STIM=OFF SLOT=1 AMP=3000 ") == fake_out, "no half line, no SEQ/CRC, the saved AMP back");
    CHECK(strstr(fake_out, " ROLE=PATIENT ") != 0 && strstr(fake_out, " TEST=0 *") != 0, "PATIENT, TEST ended");
    send("PROG SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100");
    CHECK(strncmp(fake_out, "ERR DENIED NEED=CLINICIAN *", 27) == 0, "PROG after a link reset is denied");
    send("CONFIG PIN=9999");
    CHECK(strncmp(fake_out, "ERR DENIED NEED=CLINICIAN *", 27) == 0, "CONFIG after a link reset is denied");
    CHECK(strncmp(login_with("9999"), "ERR DENIED REASON=PROOF *", 25) == 0, "the PIN is unchanged");
}

/* PBKDF2-HMAC-SHA256 vectors (RFC 6070's inputs with SHA-256; the 40-byte one spans two
 * blocks), then the PIN record built on it. */
static void test_pbkdf2_and_pin_record(void)
{
    static const struct {
        const char *pw, *salt;
        uint32_t c;
        size_t len;
        const char *dk;
    } v[] = {
        {"password", "salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
        {"password", "salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
        {"password", "salt", 4096, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
        {"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
         "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"},
    };
    uint8_t dk[40], key[FW_DEVICE_KEY_LEN], salt[FW_PIN_SALT_LEN], want[FW_SHA256_LEN], got[FW_SHA256_LEN];
    char h[81], what[64];
    fw_pin_record_t rec;
    size_t i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        fw_pbkdf2_sha256((const uint8_t *)v[i].pw, strlen(v[i].pw), (const uint8_t *)v[i].salt, strlen(v[i].salt),
                         v[i].c, dk, v[i].len);
        hex(dk, v[i].len, h);
        snprintf(what, sizeof what, "PBKDF2-HMAC-SHA256 c=%u dkLen=%u", (unsigned)v[i].c, (unsigned)v[i].len);
        CHECK(strcmp(h, v[i].dk) == 0, what);
    }
    for (i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(0xA0u + i);
    }
    for (i = 0; i < sizeof salt; i++) {
        salt[i] = (uint8_t)i;
    }
    fw_pin_record_set(&rec, key, "1234", 4, salt);
    hex(rec.hash, sizeof rec.hash, h);
    /* hashlib.pbkdf2_hmac("sha256", b"1234", bytes(range(16)), 2048, 32) */
    CHECK(FW_PIN_PBKDF2_ITERS == 2048 && strcmp(h, "11d832952fe72e69a23836fd8edf13f21f66a15e3b6c49febbf089ece9ce05a8") == 0,
          "PIN hash: PBKDF2(PIN digits, salt, 2048, 32)");
    CHECK(fw_pin_record_matches(&rec, "1234", 4) && !fw_pin_record_matches(&rec, "1235", 4) &&
              !fw_pin_record_matches(&rec, "12340", 5),
          "the record knows its PIN and no other");
    fw_sha256((const uint8_t *)"1234", 4, want);
    CHECK(memcmp(rec.wrapped, want, sizeof want) != 0, "the proof key is not stored as it is");
    fw_pin_proof_key(&rec, key, got);
    CHECK(memcmp(got, want, sizeof want) == 0, "the device key unwraps SHA-256(PIN)");
    key[0] ^= 1u;
    fw_pin_proof_key(&rec, key, got);
    CHECK(memcmp(got, want, sizeof want) != 0, "another device key does not");
}

static int bank_holds(unsigned bank, const uint8_t *what, size_t n)
{
    static uint8_t raw[FW_STORE_BANK_SIZE];
    size_t i;
    fake_store_copy(bank, raw, sizeof raw);
    for (i = 0; i + n <= sizeof raw; i++) {
        if (memcmp(raw + i, what, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* CONFIG PIN= keeps neither the digits nor SHA-256(PIN) in the banks; LOGIN still works,
 * and still does after a restart. */
static void test_pin_at_rest(void)
{
    uint8_t sha[FW_SHA256_LEN];
    unsigned b;
    fake_reset_all();
    boot_test_device();
    send("HELLO");
    login_with("0000");
    send("CONFIG PIN=73195824");
    CHECK(strncmp(fake_out, "OK IMPEDANCE_DEFAULT=", 21) == 0, "CONFIG PIN");
    fw_sha256((const uint8_t *)"73195824", 8, sha);
    for (b = 0; b < 3; b++) {
        CHECK(!bank_holds(b, (const uint8_t *)"73195824", 8), "no PIN digits in the store");
        CHECK(!bank_holds(b, sha, sizeof sha), "no SHA-256(PIN) in the store");
    }
    send("LOGOUT");
    CHECK(strncmp(login_with("0000"), "ERR DENIED REASON=PROOF *", 25) == 0, "the old PIN is gone");
    CHECK(strncmp(login_with("73195824"), "OK ROLE=CLINICIAN *", 19) == 0, "the new PIN logs in");
    boot_test_device(); /* power cycle */
    CHECK(strncmp(login_with("73195824"), "OK ROLE=CLINICIAN *", 19) == 0, "and does after a restart");
    CHECK(fw_set_pin(&fw_dev, "73195824") == 0 && fake_store_writes > 0, "--pin with the stored PIN");
    {
        int before = fake_store_writes;
        CHECK(fw_set_pin(&fw_dev, "73195824") == 0 && fake_store_writes == before, "the same PIN writes nothing");
        CHECK(fw_set_pin(&fw_dev, "5555") == 0 && fake_store_writes == before + 1, "another PIN is stored");
        CHECK(fw_set_pin(&fw_dev, "55a5") != 0 && fake_store_writes == before + 1, "a bad PIN is refused");
    }
    send("LOGOUT");
    CHECK(strncmp(login_with("5555"), "OK ROLE=CLINICIAN *", 19) == 0, "--pin's PIN logs in");
}

/* Wrong proofs and the lockout are kept in the store: SIM RESET and a restart keep both. */
static void test_lockout_survives_reset(void)
{
    int i;
    fake_reset_all();
    boot_test_device();
    for (i = 0; i < FW_LOCK_TRIES - 1; i++) {
        CHECK(strncmp(login_with("9999"), "ERR DENIED REASON=PROOF *", 25) == 0, "a wrong proof");
    }
    send("SIM RESET");
    CHECK(strncmp(login_with("9999"), "ERR LOCKED RETRY_S=60 *", 23) == 0, "the count survives SIM RESET");
    send("SIM RESET");
    send("LOGIN");
    CHECK(strncmp(fake_out, "ERR LOCKED RETRY_S=60 *", 23) == 0, "the lock survives SIM RESET");
    fake_now_us += 30000000u;
    boot_test_device(); /* power cycle half-way through: the lockout starts over */
    send("LOGIN");
    CHECK(strncmp(fake_out, "ERR LOCKED RETRY_S=60 *", 23) == 0, "the lock survives a restart");
    fake_now_us += FW_LOCK_US;
    fw_poll(&fw_dev, 0);
    boot_test_device(); /* a restart after the lockout ran out does not start it again */
    CHECK(strncmp(login_with("0000"), "OK ROLE=CLINICIAN *", 19) == 0, "after the lockout the PIN works");
    send("LOGOUT");
    for (i = 0; i < FW_LOCK_TRIES - 1; i++) {
        login_with("9999");
    }
    CHECK(strncmp(login_with("0000"), "OK ROLE=CLINICIAN *", 19) == 0, "a right proof clears the count");
    boot_test_device();
    login_with("9999");
    CHECK(strncmp(fake_out, "ERR DENIED REASON=PROOF *", 25) == 0, "so the next wrong one is the first again");
}

/* A new device starts quietly; banks that were written and are gone are a lost state. */
static void test_empty_banks(void)
{
    fake_reset_all();
    boot_test_device();
    CHECK(strstr(fake_out, "!BOOT ") == fake_out && strstr(fake_out, "STATE=") == 0, "a new device: quiet");
    send("HELLO");
    CHECK(strstr(fake_out, "STATE=") == 0, "a new device: no STATE in HELLO");
    boot_test_device();
    CHECK(strstr(fake_out, "STATE=") == 0, "a restart of a new device: quiet");
    fake_store_wipe_banks();
    boot_test_device();
    CHECK(strstr(fake_out, " STATE=DEFAULTS *") != 0, "written, now empty: !BOOT says STATE=DEFAULTS");
    send("HELLO");
    CHECK(strstr(fake_out, " STATE=DEFAULTS *") != 0, "and HELLO");
    send("STATUS");
    login_with("0000");
    send("PROG SLOT=1 MODE=TONIC AMP=3000 PW=200 RATE=50 ELEC=4:-100,5:+100");
    send("HELLO");
    CHECK(strstr(fake_out, "STATE=") == 0, "a PROG clears the flag");
    fake_store_wipe_device_record();
    boot_test_device();
    CHECK(strstr(fake_out, " STATE=DEFAULTS *") != 0, "banks without their device record: defaults, flagged");
    send("READ SLOT=1");
    CHECK(strncmp(fake_out, "ERR STATE REASON=EMPTY *", 24) == 0, "the slots are the defaults");
    boot_test_device();
    CHECK(strstr(fake_out, " STATE=DEFAULTS *") != 0, "the flag lasts until a write");
    CHECK(strncmp(login_with("0000"), "OK ROLE=CLINICIAN *", 19) == 0, "PIN 0000 again");
}

/* params.Grid and the DRG family's rules (families.md section 2). */
static void test_families(void)
{
    const fw_grid_t *g = &DRG->grid[FW_P_AMP];
    fw_program_t p;
    fw_problem_t pr;
    CHECK(fw_grid_holds(g, 1975) && fw_grid_holds(g, 2000) && fw_grid_holds(g, 2050) && !fw_grid_holds(g, 2025) &&
          !fw_grid_holds(g, 1990), "the DRG amplitude grid: 25 uA below 2 mA, 50 uA from 2 mA");
    CHECK(fw_grid_spacing(g, 1990) == 25 && fw_grid_spacing(g, 2025) == 50, "STEP= is the spacing where it lies");
    CHECK(fw_amp_patient_step(DRG, 2000, -1) == 1975, "AMP STEP=-1 from 2000 gives 1975");
    CHECK(fw_amp_patient_step(DRG, 1950, 3) == 2050, "AMP STEP=+3 from 1950 gives 2050");
    CHECK(fw_amp_patient_step(DRG, 0, -1) == -25 && fw_amp_patient_step(DRG, 6000, 1) == 6050,
          "past the ends a step leaves the range (refused there)");
    CHECK(fw_amp_patient_step(SCS_R, 2000, -3) == 1700, "no grid: 100 uA a step");
    CHECK(fw_family_has_contact(SCS_R, FW_CASE_CONTACT) && !fw_family_has_contact(DRG, FW_CASE_CONTACT) &&
          !fw_family_has_contact(fw_family(FW_FAMILY_ETS), FW_CASE_CONTACT), "the case: SCS yes, DRG and ETS no");
    CHECK(!fw_family_has_mode(DRG, FW_MODE_BURST) && !fw_family_has_mode(fw_family(FW_FAMILY_SCS_P), FW_MODE_HF) &&
          fw_family_has_mode(fw_family(FW_FAMILY_ETS), FW_MODE_HF), "modes by family");
    tonic(&p, 2000, 300, 40, "1:-100,2:+100");
    fw_prog_check(DRG, &p, 800, 0, &pr);
    CHECK(pr.code == 0, "a bipolar DRG program is accepted");
    tonic(&p, 2025, 300, 40, "1:-100,2:+100");
    fw_prog_check(DRG, &p, 800, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " KEY=AMP MIN=0 MAX=6000 STEP=50") == 0, "amplitude off the grid");
    tonic(&p, 2000, 305, 41, "1:-100,6:+100");
    fw_prog_check(DRG, &p, 800, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " KEY=PW MIN=40 MAX=720 STEP=10") == 0, "grid before ELECTRODES, table order");
    tonic(&p, 2000, 300, 40, "1:-100,6:+100");
    fw_prog_check(DRG, &p, 800, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " RULE=ELECTRODES KEY=ELEC") == 0, "each lead in use is bipolar on its own");
    tonic(&p, 2000, 300, 40, "1:-100,2:+100");
    p.lim_set = 2u;
    p.lim[1] = 2010;
    fw_prog_check(DRG, &p, 800, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " KEY=AMP_MAX MIN=0 MAX=6000 STEP=50") == 0, "a limit off the grid");
    tonic(&p, 3000, 200, 50, "4:-100,5:+100");
    p.lim_set = 2u;
    p.lim[1] = 30000;
    p.pairs[1].percent = 50;
    fw_prog_check(SCS_R, &p, 262, 0, &pr);
    CHECK(pr.code && strcmp(pr.args, " KEY=AMP_MAX MIN=0 MAX=20000") == 0, "a limit's range before ELECTRODES");
}

static void test_pack(void)
{
    fw_batt_t b;
    fw_batt_init(&b, FW_CHEM_PACK, FW_PACK_CAPACITY_PJ, 0);
    CHECK(strcmp(fw_batt_chem_name(b.chem), "PACK") == 0 && b.level == FW_BATT_OK, "a fresh pack");
    CHECK(fw_batt_set_permille(&b, 200) == FW_BATT_EV_LOW, "LOW at 20 %");
    CHECK(fw_batt_set_permille(&b, 50) == FW_BATT_EV_EMPTY && fw_batt_blocks_stim(&b), "EMPTY at 5 % stops");
    fw_batt_set_charger(&b, 1);
    CHECK(!b.charging, "no charger for the pack");
    CHECK(fw_batt_set_permille(&b, 1000) == 0 && !fw_batt_blocks_stim(&b), "a fresh pack stimulates again");
    CHECK(fw_batt_vbat_mv(&b) == 3100, "the pack's cells: the primary curve");
}

static void ecap_text(int32_t q, char *out, size_t cap)
{
    fw_buf_t b;
    fw_buf_init(&b, out, cap);
    fw_ecap_format(&b, q);
    out[b.len < cap ? b.len : cap - 1] = '\0';
}

/* The closed loop's fixed-point update, its pace and the ECAP's text (loop.h). */
static void test_loop(void)
{
    fw_clamp_t wide = {0, 20000}, narrow = {3000, 5000}, crossed = {6000, 5000};
    char t[32];
    /* GAIN * (TARGET - E) = 8 * -(1/16) = -0.5: 999.5 rounds away from zero to 1000; +0.5 to 1001 */
    CHECK(fw_loop_step(1000, 40 * 65536 + 4096, 40, 8, &wide) == 1000, "a half down rounds away from zero");
    CHECK(fw_loop_step(1000, 40 * 65536 - 4096, 40, 8, &wide) == 1001, "a half up rounds away from zero");
    CHECK(fw_loop_step(1000, 40 * 65536 + 3277, 40, 10, &wide) == 999, "just over a half down");
    CHECK(fw_loop_step(1000, 0, 40, 24, &wide) == 1960, "E = 0: the largest step up, GAIN x TARGET");
    CHECK(fw_loop_step(4000, 0, 40, 24, &narrow) == 4960 && fw_loop_step(4990, 0, 40, 24, &narrow) == 5000,
          "the clamp's top holds");
    CHECK(fw_loop_step(3100, 100 * 65536, 40, 24, &narrow) == 3000, "the clamp's bottom holds");
    CHECK(fw_loop_step(1, 500 * 65536, 10, 100, &wide) == 0, "never below the clamp's bottom");
    CHECK(fw_loop_step(5500, 40 * 65536, 40, 10, &crossed) == 5000, "crossed ends: the upper one wins");
    CHECK(fw_loop_update_pulse(7, 50) == 7 && fw_loop_update_pulse(7, 100) == 7, "one update per pulse to 100 Hz");
    CHECK(fw_loop_update_pulse(1, 130) == 2 && fw_loop_update_pulse(3, 130) == 4 && fw_loop_update_pulse(10, 130) == 13,
          "above 100 Hz: the first pulse at or after each 10 ms");
    CHECK(fw_loop_update_us(1, 50) == 20000 && fw_loop_update_us(1, 130) == 15385, "update times, rounded up");
    CHECK(fw_loop_first_update_at(0, 50) == 0 && fw_loop_first_update_at(20000, 50) == 1 &&
              fw_loop_first_update_at(20001, 50) == 2 && fw_loop_first_update_at(15384, 130) == 1 &&
              fw_loop_first_update_at(15385, 130) == 2,
          "the first update at or after a time");
    ecap_text(0, t, sizeof t);
    CHECK(strcmp(t, "0") == 0, "0 uV");
    ecap_text(41 * 65536 + 19661, t, sizeof t);
    CHECK(strcmp(t, "41.3") == 0, "41.3 uV");
    ecap_text(-(2 * 65536 + 32768), t, sizeof t);
    CHECK(strcmp(t, "-2.5") == 0, "-2.5 uV");
    ecap_text(-3000, t, sizeof t);
    CHECK(strcmp(t, "0") == 0, "a hair below 0 is 0, not -0");
    ecap_text(16384, t, sizeof t);
    CHECK(strcmp(t, "0.2") == 0, "0.25 uV: a tie, to even (Python's round(0.25, 1))");
    ecap_text(49152, t, sizeof t);
    CHECK(strcmp(t, "0.8") == 0, "0.75 uV: a tie, to even");
    ecap_text(40 * 65536 + 3277, t, sizeof t);
    CHECK(strcmp(t, "40.1") == 0, "just over 40.05 is 40.1");
}

int main(void)
{
    test_crc();
    test_sha256();
    test_hmac();
    test_parser();
    test_lines();
    test_electrodes();
    test_validation();
    test_families();
    test_pack();
    test_scheduler();
    test_battery();
    test_store();
    test_device();
    test_link_reset();
    test_pbkdf2_and_pin_record();
    test_pin_at_rest();
    test_lockout_survives_reset();
    test_empty_banks();
    test_loop();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
