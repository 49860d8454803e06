/* verbs.h -- the one way device.c reaches the verbs: run an accepted request (the reply
 * is left in d->rb), then do what the verb left for after its reply is sent. */
#ifndef STIMFW_VERBS_H
#define STIMFW_VERBS_H

#include "device.h"

void fw_dispatch(fw_device_t *d, const fw_request_t *r);
void fw_after_reply(fw_device_t *d);

#endif
