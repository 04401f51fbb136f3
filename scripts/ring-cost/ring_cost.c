/* ring_cost.c -- instructions per packet of the C reference ring, single thread.
 *
 * The two-thread benchmark (scripts/bench-ring.sh) measures throughput, which on this machine's
 * shared vCPUs moves with host placement. This measures what does not: the work per packet.
 * One thread fills a ring with fixed-size packets until it is full, then drains it, ROUNDS
 * times, through out-of-line send/receive functions shaped like bench_ref.c's impl_send and
 * impl_recv (the same adapter calls ring-bench makes). Run under callgrind with
 * --toggle-collect on cost_send / cost_recv (scripts/ring-cost.sh): instructions / packets.
 *
 *   ring_cost RING_BYTES PAYLOAD ROUNDS
 */
#define _GNU_SOURCE
#include "ring_ref.c"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

__attribute__((noinline)) int cost_send(struct vmb_tx *t, const void *p, uint32_t len)
{
	return vmb_send(t, 0x6, 0, ~0ull, p, len);
}

__attribute__((noinline)) int cost_recv(struct vmb_rx *r, uint8_t *buf, uint32_t buflen, uint16_t *type)
{
	struct vmb_desc d;
	int n = vmb_recv(r, &d, buf, buflen);
	if (n < 0)
		return n;
	*type = d.type;
	return (int)d.len8 * 8 + 8;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ring_cost RING_BYTES PAYLOAD ROUNDS\n");
		return 1;
	}
	size_t total = strtoull(argv[1], NULL, 0);
	uint32_t len = (uint32_t)strtoul(argv[2], NULL, 0);
	long rounds = strtol(argv[3], NULL, 0);
	void *mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *payload = calloc(1, len + 64), *buf = calloc(1, 65536);
	if (mem == MAP_FAILED || !payload || !buf || vmb_ring_init(mem, total) != 0)
		return 2;
	struct vmb_tx tx;
	struct vmb_rx rx;
	if (vmb_tx_attach(&tx, mem, total) != 0 || vmb_rx_attach(&rx, mem, total) != 0)
		return 3;
	unsigned long long sent = 0, received = 0;
	for (long i = 0; i < rounds; i++) {
		for (;; sent++) {
			*(uint64_t *)payload = sent;
			if (cost_send(&tx, payload, len) < 0)
				break;
		}
		vmb_rx_begin_read(&rx);
		uint16_t type;
		while (cost_recv(&rx, buf, 65536, &type) >= 0)
			received++;
		bool signal;
		vmb_rx_end_read(&rx, &signal);
	}
	printf("packets %llu %llu\n", sent, received);
	return sent == received ? 0 : 4;
}
