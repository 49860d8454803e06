/* device.h -- the generator: protocol state machine, slots, roles, safety, battery
 * and stimulation output, on fixed buffers only. A port uses the one fw_dev, feeds
 * it received bytes and calls fw_poll() from its main loop. */
#ifndef STIMFW_DEVICE_H
#define STIMFW_DEVICE_H

#include <stdint.h>
#include "battery.h"
#include "codec.h"
#include "hal.h"
#include "loop.h"
#include "program.h"
#include "sched.h"
#include "store.h"
#include "params_gen.h"

#define FW_EVQ_N 24                    /* a fault on all 17 contacts, !STIM, and more */
#define FW_EV_MAX 96
#define FW_HOUSEKEEPING_US 100000ull   /* battery integration and lease checks */

enum { FW_ROLE_PATIENT = 0, FW_ROLE_CLINICIAN = 1 };
enum { FW_FAULT_NONE = 0, FW_FAULT_OPEN, FW_FAULT_SHORT };

typedef struct {
    const char *model;     /* HELLO MODEL=, e.g. "STIMFW-HOST" */
    const char *fw;        /* firmware version */
    const char *sn;        /* serial number */
    uint8_t chem;          /* FW_CHEM_*, one of the family's chemistries (FW_CHEM_FAMILY: its default) */
    uint8_t sim;           /* the SIM verb is served */
    uint16_t batt_persist_step; /* per-mille of battery change between store writes */
    uint8_t family;        /* FW_FAMILY_*, whose rules the device keeps (0: the default family) */
} fw_port_t;

#define FW_CHEM_FAMILY 0xFFu /* fw_port_t.chem: the family's default chemistry */
/* A board build picks its family at compile time: -DSTIMFW_FAMILY=FW_FAMILY_DRG. */
#ifndef STIMFW_FAMILY
#define STIMFW_FAMILY FW_FAMILY_SCS_R
#endif

struct fw_device;
struct fw_request;
/* What the device runs for an accepted request, given to fw_init by whoever assembles the
 * firmware (verbs.c provides fw_verbs): device.c calls the verbs only through this, so the
 * device core does not depend on the verbs that depend on it. */
typedef struct {
    void (*dispatch)(struct fw_device *d, const struct fw_request *r); /* the reply goes to d->rb */
    void (*after_reply)(struct fw_device *d); /* work a verb left for after its reply is out */
} fw_verbs_t;

typedef struct {
    int32_t seq;           /* -1: empty entry */
    uint16_t line_len;
    uint16_t reply_len;
    char line[FW_LINE_MAX + 1];
    char reply[FW_OUT_MAX];
} fw_cache_entry_t;

typedef struct fw_device {
    fw_port_t port;
    const fw_family_t *fam; /* the port's family */
    const fw_verbs_t *verbs;
    /* persistent state (the RAM copy of the current bank) */
    fw_image_t img;
    uint8_t bank;
    uint8_t device_key[FW_DEVICE_KEY_LEN]; /* from the device record */
    uint8_t proof_key[FW_SHA256_LEN];      /* SHA-256(PIN), unwrapped from img.p.pin; RAM only */
    /* session */
    uint32_t boot_id;
    uint64_t boot_us;
    uint8_t role;
    uint8_t strict;
    int32_t last_seq;      /* -1: nothing accepted since boot */
    fw_cache_entry_t cache[FW_CACHE_N];
    uint8_t cache_next;
    /* login */
    uint8_t nonce_valid;
    char nonce[17];
    uint64_t locked_until_us; /* 0: not locked (the count and the lock flag are in img.p) */
    /* stimulation */
    uint8_t stim_on;
    uint8_t mri;
    uint8_t test_on;
    fw_program_t test_prog;
    int32_t test_clin_amp;
    uint64_t test_lease_us;
    uint8_t fault[FW_CASE_CONTACT + 1];
    fw_sched_t sched;
    uint64_t t0_us;
    uint8_t limited;       /* compliance limited (active program) */
    uint8_t test_ack;      /* the TEST settings came with ACK=CHARGE */
    /* closed loop (a family with loop_modes) */
    fw_nerve_env_t nerve;  /* SIM POSTURE / COUGH / ECAP_NOISE / EPS: environment, kept over resets */
    fw_loop_run_t run;
    uint8_t stream;        /* ECAP STREAM=1 */
    uint64_t stream_next_us;
    int32_t sweep_from, sweep_step; /* ECAP SWEEP's points, sent after its reply */
    uint16_t sweep_n;
    /* battery */
    fw_batt_t batt;
    uint64_t batt_last_us;
    uint32_t batt_saved_pm;
    uint64_t next_housekeeping_us;
    /* I/O */
    fw_linebuf_t lb;
    fw_request_t req;
    int32_t cur_seq;
    char out[FW_OUT_MAX];
    fw_buf_t rb;
    char evq[FW_EVQ_N][FW_EV_MAX];
    char ev_sink[2];       /* where an event goes when the queue is full */
    uint8_t evn;
    fw_buf_t eb;
    uint8_t after;         /* verbs.c's FW_AFTER_*: work that follows the reply */
    int64_t after_from;    /* LOG FROM= */
} fw_device_t;

/* Power-up: load the store, reset RAM state, send !BOOT. */
void fw_init(fw_device_t *d, const fw_port_t *port, const fw_verbs_t *verbs);
/* Bytes received from the host. Replies (and events) go out through hal_io_write. */
void fw_rx(fw_device_t *d, const uint8_t *data, size_t len);
/* A new link (a TCP client connects or leaves): the session starts over as after HELLO --
 * partial line forgotten, role PATIENT, nonce forgotten, strict mode off, a TEST ended
 * silently (the saved slot back, no !TEST: the client that ran it is gone). SEQ state,
 * the resend cache, stimulation, the lockout and the store are untouched. */
void fw_link_reset(fw_device_t *d);
/* Timers: TEST lease, battery, phase edges due up to now + horizon_us. */
void fw_poll(fw_device_t *d, uint64_t horizon_us);
/* Set the login PIN (4..8 digits) from the port's configuration; 0 on success. The store
 * is written only when it is another PIN than the stored one. */
int fw_set_pin(fw_device_t *d, const char *pin);
/* Absolute time (us) by which fw_poll should run again. */
uint64_t fw_next_wake_us(const fw_device_t *d, uint64_t horizon_us);

/* The one instance a port uses (defined in device.c, so its RAM shows in the size report). */
extern fw_device_t fw_dev;

#endif
