# project: sluice.yaml, sources and their data contracts.
LIB_SRCS += src/project/project.c src/project/contract.c src/project/register.c src/project/products.c
