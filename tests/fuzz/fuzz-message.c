/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-message - arbitrary bytes as a message through the pipeline
 * DESCRIPTION
 *	The message goes through the test modules that read and edit MIME
 *	(split, modify, verdicts by header, emit) and through dispatch in scan
 *	mode: parsing, copy-on-write variants, serialization, DSN building.
 *	An unchanged variant must still be the input byte for byte.
 */
#include <stdint.h>
#include <string.h>

#include "mw-dispatch.h"
#include "mw-pipeline.h"
#include "mw-txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static MwConfig *config;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (config == NULL) {
		g_mime_init();
		const char *overrides[] = {"state_dir=/tmp", NULL};
		config = mw_config_load_data("[mailwarden]\nhostname = fuzz.test\n"
					     "modules = test_split, test_modify, test_emit, "
					     "test_verdict, test_consume\n",
					     overrides, NULL);
		if (config == NULL)
			__builtin_trap();
	}
	if (size > 1 << 20)
		return 0;
	const char *rcpts[] = {"split@example.org", "plain@example.org", "consume@example.org",
			       "reject@example.org", NULL};
	MwEnvelope *env = mw_envelope_new_simple("sender@example.org", rcpts);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes(data, size);
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	MwOutcome outcome;
	mw_dispatch(txn, NULL, FALSE, &outcome);
	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *d = g_ptr_array_index(txn->deliveries, i);
		if (d->modified)
			continue;
		/* byte fidelity: an unedited variant sends the original bytes */
		if (mw_message_get_size(d->message) != size)
			__builtin_trap();
	}
	mw_outcome_clear(&outcome);
	return 0;
}
