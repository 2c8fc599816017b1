/*
 * layer_check — an empty program. server/meson.build links it with all
 * of one layer's objects and only the layers below, so that a call from
 * a lower layer into a higher one fails the build (see there).
 */
int main(void) { return 0; }
