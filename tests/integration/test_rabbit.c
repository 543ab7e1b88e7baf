/* test_rabbit.c - smoke test: the private RabbitMQ answers a real AMQP login. */
#include <criterion/criterion.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdlib.h>

Test(rabbit, connects_and_declares_a_queue)
{
	const char *url = getenv("JETL_QUEUE");
	struct amqp_connection_info ci;
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	char *copy;

	cr_assert(url && *url, "JETL_QUEUE is not set: run through scripts/test");
	copy = strdup(url);
	cr_assert_eq(amqp_parse_url(copy, &ci), AMQP_STATUS_OK, "bad JETL_QUEUE");
	conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(conn);
	cr_assert_not_null(sock);
	cr_assert_eq(amqp_socket_open(sock, ci.host, ci.port), AMQP_STATUS_OK, "cannot reach %s:%d", ci.host, ci.port);
	r = amqp_login(conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
	cr_assert_eq(r.reply_type, AMQP_RESPONSE_NORMAL, "login failed");
	amqp_channel_open(conn, 1);
	cr_assert_eq(amqp_get_rpc_reply(conn).reply_type, AMQP_RESPONSE_NORMAL);
	amqp_queue_declare(conn, 1, amqp_cstring_bytes("jetl.smoke"), 0, 0, 1, 1, amqp_empty_table);
	cr_assert_eq(amqp_get_rpc_reply(conn).reply_type, AMQP_RESPONSE_NORMAL, "queue.declare failed");
	amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	free(copy);
}
