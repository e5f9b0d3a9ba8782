# bench: each benchmark against its peer in the same run, with the ratio.
bench: setup-test
	@$(MAKE) --no-print-directory MODE=release all
	@bench/transform.sh build/release/sluice
