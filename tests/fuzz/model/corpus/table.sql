TABLE curated.orders;
