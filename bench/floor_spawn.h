/* floor_spawn: one repetition of the floor's process work.
 *
 * Makes a loopback TCP connection (listen on 127.0.0.1 port 0, connect,
 * accept; TCP_NODELAY on both ends), starts this very program twice with
 * posix_spawn (a fresh exec each time: server child, client child, each
 * holding only its own end of the connection) and waits for both.
 *
 * Needs: self, the path of this program's executable; child_args, extra
 * arguments handed to both children (the credentials and the deadline).
 * Returns: TC_OK when both children exited 0; otherwise a negative tc_err
 * whose message says which child failed and how. Both children are always
 * reaped; they bound themselves (see floor_main.c), so the wait is bounded.
 * Never leaves a descriptor open. */
#ifndef TLSCLOSE_FLOOR_SPAWN_H
#define TLSCLOSE_FLOOR_SPAWN_H

int floor_spawn_pair(const char *self, char *const child_args[]);

#endif
