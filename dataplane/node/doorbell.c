/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An rx wake-up for net_af_packet, which has no rx queue interrupts: a
 * second packet socket on the PMD's interface, with no ring and a
 * receive buffer of a few frames, is the doorbell. The kernel queues a
 * copy of each inbound frame there too; an idle lcore drains it, polls
 * the port once more and waits for it to become readable (or a command,
 * or its next timer) in the same epoll set as rx interrupts. While the
 * lcore is busy the doorbell is full and the kernel drops its copies:
 * nothing is read per packet.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>

#include "gossipd.h"
#include "gsp_log.h"

#define GSP_DOORBELL_DRAIN_MAX 16	/* a full doorbell holds a few */

/* The iface= of the port's devargs, into name. */
static int
gsp_doorbell_iface(uint16_t port, char *name, size_t len)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	const char *p, *end;

	if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
		return -ENODEV;
	da = rte_dev_devargs(info.device);
	if (da == NULL || da->args == NULL)
		return -ENOENT;
	for (p = da->args; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, "iface=", 6) != 0)
			continue;
		p += 6;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p || (size_t)(end - p) >= len)
			return -EINVAL;
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		return 0;
	}
	return -ENOENT;
}

static int
gsp_doorbell_open(const char *iface)
{
	struct sockaddr_ll sll = { 0 };
	int one = 1, small = 1, fd;

	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (sll.sll_ifindex == 0)
		return -errno;
	/* protocol 0: nothing queued before the bind */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the kernel's minimum: a few frames ring it, the rest are dropped;
	 * our own transmissions do not ring it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) != 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Before a wait: frames it rang for are in the port's ring already, the
 * poll after this one takes them. */
void
gsp_doorbell_drain(const struct gsp_lcore_conf *lc)
{
	uint8_t b;

	for (int i = 0; i < GSP_DOORBELL_DRAIN_MAX; i++)
		if (recv(lc->rx_bell_fd, &b, sizeof(b),
			 MSG_DONTWAIT | MSG_TRUNC) < 0)
			break;
}

static void
gsp_doorbell_wake_drain(int fd, __rte_unused void *arg)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
}

void
gsp_doorbell_free(struct gsp_lcore_conf *lc)
{
	if (lc->rx_bell)
		close(lc->rx_bell_fd);
	lc->rx_bell = false;
}

/*
 * [dataplane] rx_interrupts = auto on net_af_packet with one queue pair:
 * each lcore of the port gets the doorbell, its wake eventfd and an
 * epoll set, and lc->rx_intr (rx_intr_arm false: nothing to arm).
 * 0, or why not: the caller (port.c) then frees what was set up and
 * leaves bounded sleeps.
 */
int
gsp_doorbell_setup(struct gsp_dp *dp)
{
	char iface[IF_NAMESIZE];
	unsigned int lcore;
	int ret;

	ret = gsp_doorbell_iface(dp->port_id, iface, sizeof(iface));
	if (ret == 0 && dp->nb_queues != 1)
		ret = -ENOTSUP;		/* it cannot tell the queues apart */
	RTE_LCORE_FOREACH(lcore) {
		dp->lconf[lcore].intr_epfd = -1;
		dp->lconf[lcore].wake_fd = -1;
	}
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		if (ret != 0)
			break;
		if (lc->port_kind != GSP_PORT_ETHDEV)
			continue;
		lc->intr_epfd = epoll_create1(EPOLL_CLOEXEC);
		lc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (lc->intr_epfd < 0 || lc->wake_fd < 0) {
			ret = -errno;
			break;
		}
		ret = gsp_doorbell_open(iface);
		if (ret < 0)
			break;
		lc->rx_bell_fd = ret;
		lc->rx_bell = true;
		ret = 0;
		lc->wake_ev = (struct rte_epoll_event){
			.epdata = { .event = EPOLLIN, .data = NULL,
				    .cb_fun = gsp_doorbell_wake_drain },
		};
		lc->rx_bell_ev = (struct rte_epoll_event){
			.epdata = { .event = EPOLLIN, .data = lc },
		};
		if (rte_epoll_ctl(lc->intr_epfd, EPOLL_CTL_ADD, lc->wake_fd,
				  &lc->wake_ev) != 0 ||
		    rte_epoll_ctl(lc->intr_epfd, EPOLL_CTL_ADD,
				  lc->rx_bell_fd, &lc->rx_bell_ev) != 0) {
			ret = -EINVAL;
			break;
		}
		lc->rx_intr_arm = false;
		__atomic_store_n(&lc->rx_intr, true, __ATOMIC_RELEASE);
		gsp_log(LOG_INFO, "port %u (net_af_packet) on %s: an idle "
			"lcore %u waits for a frame (a doorbell packet socket) "
			"or its next timer", dp->port_id, iface, lcore);
	}
	return ret;
}
