/* metrics.h - the worker's Prometheus endpoint (metrics.c). */
#ifndef JETL_CLI_METRICS_H
#define JETL_CLI_METRICS_H

#include <stddef.h>
#include <jetl.h>

struct metrics;
/* Listens on addr (HOST:PORT, [V6]:PORT, :PORT) and serves GET /metrics
 * from a thread with its own context opened with opts (the queue left
 * out). NULL with the reason in err when the address or the database fails. */
struct metrics *metrics_start(const jetl_options *opts, const char *addr, char *err, size_t n);
/* Ends the thread (after the scrape it is answering), closes all. NULL: nothing. */
void metrics_stop(struct metrics *m);

#endif
