#[leakcheck::leak_checked_test(allow_leaks = "bb8")]
async fn a_string_not_a_list() {}

#[leakcheck::leak_checked_test(allow_leaks = ["bb8", 8])]
async fn a_number_in_the_list() {}

#[leakcheck::leak_checked_test(timeout = ["5s"])]
async fn a_list_for_one_value() {}

fn main() {}
