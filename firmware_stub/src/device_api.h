/* device_api.h -- the services device.c gives the verbs: building the reply, queueing
 * events, persisting, the audit log and the output stage. verbs.c includes this and
 * nothing of device.c's framing (SEQ, cache, line assembly); device.c reaches the verbs
 * only through verbs.h. Not part of the port interface (that is device.h). */
#ifndef STIMFW_DEVICE_API_H
#define STIMFW_DEVICE_API_H

#include "device.h"

/* replies: begin in d->rb with the request's SEQ */
void fw_reply_ok(fw_device_t *d);
void fw_reply_err(fw_device_t *d, const char *code);
void fw_reply_err_key(fw_device_t *d, const char *code, const char *key);
void fw_reply_bad_arg(fw_device_t *d, int arg_index);

/* events: open, append arguments, close; sent after the reply */
fw_buf_t *fw_event_open(fw_device_t *d, const char *name);
void fw_event_close(fw_device_t *d);

/* the persistent image: write it to the store; add an audit log entry */
void fw_persist(fw_device_t *d);
void fw_log_add(fw_device_t *d, uint8_t what, uint8_t slot, uint8_t role);
/* A new PIN (already checked: 4..8 digits) into img.p with a fresh salt, and the proof
 * key in RAM; the caller persists. */
void fw_pin_change(fw_device_t *d, const char *pin, size_t len);

/* the output stage */
const fw_program_t *fw_active_prog(const fw_device_t *d);
int32_t fw_active_clin_amp(const fw_device_t *d);
uint8_t fw_faulted_contact(const fw_device_t *d, const fw_program_t *p);
void fw_stim_start(fw_device_t *d);
void fw_stim_stop(fw_device_t *d, const char *reason);
void fw_output_changed(fw_device_t *d);
void fw_output_amp_changed(fw_device_t *d);
void fw_faults_changed(fw_device_t *d);
void fw_test_end(fw_device_t *d, const char *reason);

/* the closed loop (ecap_run.c): the run follows the output; time runs its updates and the
 * !ECAP stream; the amplitude and ECAP of the moment */
uint8_t fw_active_ack(const fw_device_t *d);
void fw_loop_sync(fw_device_t *d);
void fw_loop_advance(fw_device_t *d, uint64_t now_us);
int32_t fw_output_amp(const fw_device_t *d);
int32_t fw_loop_reading(fw_device_t *d, uint64_t now_us, int32_t *amp_ua);
void fw_loop_env_defaults(fw_device_t *d);

/* battery and power */
void fw_batt_apply_events(fw_device_t *d, unsigned ev);
void fw_batt_sync(fw_device_t *d);
void fw_reboot(fw_device_t *d);

#endif
