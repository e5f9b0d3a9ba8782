PIVOT curated.sales ON year USING sum(amount) GROUP BY region
