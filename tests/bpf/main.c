/* tests/bpf/main.c — the BPF suite runner (root only; tests/run-tests.sh skips it otherwise).
 *
 * Pins itself to one CPU and moves into a private network namespace first, so that FIB lookups and the test interfaces depend
 * on nothing of the host, loads the XDP program once through the loader, runs the suites and prints
 * "bpf: N passed, M failed" last. Exit status is non-zero on any failure.
 * Usage: bpf-tests [SUITE-NAME-SUBSTRING]
 */
#include <CUnit/Basic.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tests/bpf/harness.h"

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	struct xdp_relay_opts opts = { .verifier_log = "/tmp/xturn-bpf-tests-verifier.log" };
	unsigned int passed = 0, failed = 0;
	CU_pSuite suite;

	if (geteuid() != 0) {
		printf("bpf: SKIPPED (needs root to load BPF programs)\nbpf: 0 passed, 0 failed\n");
		return 0;
	}
	/* test_run executes on the calling CPU and the program's FIB cache is per CPU: staying on
	 * one CPU makes "the second packet uses the cached answer" deterministic. */
	{
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	if (unshare(CLONE_NEWNET)) {
		perror("bpf-tests: unshare(CLONE_NEWNET)");
		printf("bpf: 0 passed, 1 failed\n");
		return 1;
	}
	t_relay = xdp_relay__open(&opts);
	if (!t_relay) {
		fprintf(stderr, "bpf-tests: %s\n", xdp_relay__errmsg());
		printf("bpf: 0 passed, 1 failed\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS || test_xdp_relay_register() ||
	    test_xdp_fib_register()) {
		fprintf(stderr, "bpf-tests: CUnit: %s\n", CU_get_error_msg());
		printf("bpf: 0 passed, 1 failed\n");
		return 1;
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	for (suite = CU_get_registry()->pSuite; suite; suite = suite->pNext) {
		if (filter && !strstr(suite->pName, filter))
			continue;
		printf("\n==== suite %s\n", suite->pName);
		CU_basic_run_suite(suite);
		passed += CU_get_number_of_tests_run() - CU_get_number_of_tests_failed();
		failed += CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	}
	CU_cleanup_registry();
	xdp_relay__destroy(t_relay);
	printf("\nbpf: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
