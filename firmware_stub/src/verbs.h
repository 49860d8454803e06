/* verbs.h -- the verbs: run an accepted request (the reply is left in d->rb), then do
 * what the verb left for after its reply is sent. device.c never includes this: it
 * reaches the verbs through the fw_verbs_t table that fw_init is given (fw_verbs). */
#ifndef STIMFW_VERBS_H
#define STIMFW_VERBS_H

#include "device.h"

void fw_dispatch(fw_device_t *d, const fw_request_t *r);
void fw_after_reply(fw_device_t *d);

/* The verbs as fw_init takes them. */
extern const fw_verbs_t fw_verbs;

#endif
