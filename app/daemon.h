/* app/daemon.h — xturnd: the wiring of config, XDP program, AF_XDP workers, TURN core, neighbour
 * cache, metrics and signals. Start-up, the control loop and shutdown live here; the per-packet work is
 * app/pipeline.c, run by one worker thread per NIC queue.
 */
#ifndef XTURN_APP_DAEMON_H
#define XTURN_APP_DAEMON_H

#include "config/config.h"

/* Runs xturnd with cfg (which it takes over) until SIGTERM/SIGINT. config_path is re-read on SIGHUP.
 * Returns the process exit status. */
int daemon_run(struct xturn_config *cfg, const char *config_path);

#endif
