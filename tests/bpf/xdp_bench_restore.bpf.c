/* Benchmark harness for tools/bench/bench_xdp.c: gives every BPF_PROG_TEST_RUN repetition a fresh
 * frame, then tail-calls the program under test.
 *
 * Without live frames, test_run repeats on one xdp_buff, so a rewriting program would see its own
 * output; with BPF_F_TEST_XDP_LIVE_FRAMES this kernel re-initialises a page only once per run, not
 * per repetition. So this program restores the frame itself: it moves the head back by the amount
 * the program under test moves it (the bench knows it and the relay counters confirm it happened),
 * sets the length, and writes the original bytes. The bench runs it twice, tail-calling the relay
 * program and a two-instruction XDP_TX program, and reports the difference.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_FRAME 512

struct bench_frame {
	__u32 len;	  /* bytes of the pristine frame */
	__s32 head_delta; /* how far the program under test moves data (bpf_xdp_adjust_head) */
	__u32 started;	  /* 0 before the first repetition */
	__u32 pad;
	__u8 bytes[MAX_FRAME];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_frame);
} bench_frame SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	__u32 zero = 0, len;
	struct bench_frame *f = bpf_map_lookup_elem(&bench_frame, &zero);
	long have;

	if (!f)
		return XDP_ABORTED;
	if (f->started && bpf_xdp_adjust_head(ctx, -f->head_delta))
		return XDP_ABORTED;
	f->started = 1;
	len = f->len;
	if (len > MAX_FRAME || len < 14)
		return XDP_ABORTED;
	have = (long)ctx->data_end - (long)ctx->data;
	if (have != len && bpf_xdp_adjust_tail(ctx, (int)len - (int)have))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, f->bytes, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_target, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
