-- description: long form
UNPIVOT gold.wide ON COLUMNS(* EXCLUDE (id)) INTO NAME k VALUE v
